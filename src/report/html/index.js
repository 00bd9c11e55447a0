// The dashboard's only script: click a column heading to sort its table.
// Cells carry their sort key in data-v (numbers); others sort by text;
// empty cells go last either way.
(function () {
  'use strict';
  function key(td) {
    if (!td) return null;
    if (td.hasAttribute('data-v')) return parseFloat(td.getAttribute('data-v'));
    const t = td.textContent.trim();
    return t === '—' || t === '' ? null : t.toLowerCase();
  }
  for (const table of document.querySelectorAll('table.sortable')) {
    const ths = Array.from(table.tHead.rows[0].cells);
    ths.forEach((th, col) => {
      const b = th.querySelector('button');
      if (!b) return;
      b.addEventListener('click', () => {
        const dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
        ths.forEach((o) => o.removeAttribute('aria-sort'));
        th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
        const body = table.tBodies[0];
        const rows = Array.from(body.rows);
        rows.sort((a, b2) => {
          const x = key(a.cells[col]);
          const y = key(b2.cells[col]);
          if (x === null || y === null) return x === null ? (y === null ? 0 : 1) : -1;
          if (typeof x === 'number' && typeof y === 'number') return (x - y) * dir;
          return String(x).localeCompare(String(y)) * dir;
        });
        body.append(...rows);
      });
    });
  }
  document.documentElement.dataset.renderMs = performance.now().toFixed(1);
  document.documentElement.dataset.ready = '1';
})();
