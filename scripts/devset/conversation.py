"""Plan a two-party conversation on the 16 kHz call timeline.

All times are integer 10 ms frames.  Utterances are placed so that their
*reference* speech starts where the plan wants it (placement start = wanted
speech start - the utterance's leading non-speech frames), which makes gaps,
overlaps and interruption overlaps exact in the reference.

Transitions after an utterance of speaker A (B is the other party):
  gap      B's speech starts 0.2-1.0 s after A's ends
  cont     A goes on after a 0.3-0.9 s pause (at most one per turn)
  long     silence of 2-3 s, then B (or A) speaks
  vlong    silence of 5.2-7 s
  overlap  B starts 0.10-0.25 s before A's natural end (A is not cut)
  interrupt  B starts while A speaks (A has spoken >= 1 s); A is truncated
           0.35-1.15 s later with a 30 ms fade ending at the cut, so the
           overlap in the reference is >= 0.30 s
  bc       B says a word (< 1 s of reference speech) well inside a stretch of
           A's speech (>= 0.5 s of A before and after it); then a gap
  hold     (agent only) 0.8 s, music on hold for 10-20 s on the agent
           channel, 0.5 s, and the agent speaks again
Required transitions (counts given by the call) are spread over the call;
if a plan cannot fit them all it is redrawn from the same RNG stream.
"""

from dataclasses import dataclass, field

import numpy as np

from .reference import FRAME, reference_frames, runs, active_level_db, overlap_frames

AGENT, CUSTOMER = 0, 1
ROLE_NAMES = {AGENT: "agent", CUSTOMER: "customer"}
FADE_OUT = 480          # 30 ms at 16 kHz
PEAK_CAP = 0.89         # -1 dBFS: no placed utterance peaks above this
AVG_STEP = 380          # rough frames per transition, to pace required ones


@dataclass
class Placed:
    channel: int
    start_f: int
    samples: np.ndarray = field(repr=False)
    ref: np.ndarray = field(repr=False)
    utt: object
    role: str
    gain_db: float
    truncated: bool = False

    @property
    def end_f(self):
        return self.start_f + len(self.samples) // FRAME

    def ref_intervals(self):
        """Absolute (start, end) frames of this utterance's reference."""
        return [(self.start_f + s, self.start_f + e) for s, e in runs(self.ref)]

    def ref_extent(self):
        iv = self.ref_intervals()
        return iv[0][0], iv[-1][1]


class Deck:
    """Draws items of a list in shuffled order, reshuffling when empty and
    never repeating the last item straight away."""

    def __init__(self, items, rng):
        self.items, self.rng, self.order, self.last = list(items), rng, [], None

    def draw(self, ok=lambda u: True):
        for _ in range(2 * len(self.items) + 2):
            if not self.order:
                self.order = list(self.rng.permutation(len(self.items)))
            k = self.order.pop()
            if (k != self.last or len(self.items) == 1) and ok(self.items[k]):
                self.last = k
                return self.items[k]
        return None


class Planner:
    """Builds one conversation.  `pools[ch]` = {'utts': [...], 'words': [...]}
    for the channel's speaker; `levels_db[ch]` = the channel's active speech
    level in dBFS; `required` = {transition: count}."""

    def __init__(self, rng, pools, levels_db, target_f, required):
        self.rng = rng
        self.levels = levels_db
        self.target = target_f
        self.required = dict(required)
        self.decks = [Deck(p["utts"], rng) for p in pools]
        self.words = [Deck(p["words"], rng) if p["words"] else None for p in pools]

    # --- placing ------------------------------------------------------------------

    def gain_for(self, ch, x, ref):
        """Gain (dB) putting the utterance at the channel level +-1.5 dB,
        capped so it peaks at most at -1 dBFS."""
        want = self.levels[ch] + self.rng.uniform(-1.5, 1.5) - active_level_db(x, ref)
        cap = 20 * np.log10(PEAK_CAP / max(np.max(np.abs(x)), 1e-9))
        return float(min(want, cap))

    def place(self, ch, utt, speech_at, role):
        """Place `utt` on channel `ch` so its reference speech starts at frame
        `speech_at`.  Returns the Placed item, or None if the channel is busy."""
        first, _ = utt.ref_extent()
        start = speech_at - first
        if start < self.free[ch] or start < 0:
            return None
        g = self.gain_for(ch, utt.samples, utt.ref)
        x = utt.samples * 10 ** (g / 20)
        p = Placed(ch, start, x, reference_frames(x), utt, role, g)
        self.items.append(p)
        self.free[ch] = p.end_f
        return p

    def truncate(self, p, cut_f):
        """Cut placed utterance `p` at absolute frame `cut_f` with a 30 ms
        linear fade ending at the cut; recompute its reference."""
        n = (cut_f - p.start_f) * FRAME
        x = p.samples[:n].copy()
        x[-FADE_OUT:] *= np.linspace(1.0, 0.0, FADE_OUT + 1)[1:]
        p.samples, p.ref, p.truncated = x, reference_frames(x), True
        self.free[p.channel] = p.end_f

    # --- transitions ------------------------------------------------------------------

    def next_utt(self, ch, min_first_len=0):
        """Next utterance of channel ch whose first reference interval is at
        least min_first_len frames."""
        def ok(u):
            r = runs(u.ref)
            return r[0][1] - r[0][0] >= min_first_len
        return self.decks[ch].draw(ok)

    def do_gap(self, cur, lo, hi, switch=True):
        """Next utterance (other speaker if `switch`) starts its speech lo-hi
        frames after the current one ended (later if that channel is still
        busy with a backchannel or its own padding)."""
        ch = 1 - cur if switch else cur
        u = self.next_utt(ch)
        at = self.t + int(self.rng.integers(lo, hi + 1))
        at = max(at, self.free[ch] + u.ref_extent()[0])
        return self.place(ch, u, at, "turn")

    def do_overlap(self, cur, p):
        """B starts 0.10-0.25 s before A's natural end."""
        a, b = p.ref_intervals()[-1]
        ov = int(self.rng.integers(10, 26))
        if b - a < ov + 30:
            return None
        u = self.next_utt(1 - cur, ov + 10)
        return self.place(1 - cur, u, b - ov, "overlap") if u else None

    def do_interrupt(self, cur, p):
        """B starts inside A's speech; A is cut after a 0.35-1.15 s overlap."""
        ov = int(self.rng.integers(35, 116))
        speech0 = p.ref_extent()[0]
        cands = []
        for a, b in p.ref_intervals():
            lo, hi = max(a + 20, speech0 + 100), b - ov - 5
            if hi >= lo:
                cands.append((lo, hi))
        if not cands:
            return None
        lo, hi = cands[int(self.rng.integers(len(cands)))]
        at = int(self.rng.integers(lo, hi + 1))
        u = self.next_utt(1 - cur, ov + 20)
        if u is None:
            return None
        q = self.place(1 - cur, u, at, "interruption")
        if q is None:
            return None
        self.truncate(p, at + ov)
        got = overlap_frames(p.ref_intervals(), q.ref_intervals())
        if got < 30:
            raise AssertionError("interruption overlap %d frames < 30" % got)
        self.interruptions.append(dict(at_f=at, end_f=p.ref_extent()[1],
                                       interrupter=ROLE_NAMES[1 - cur],
                                       interrupted=ROLE_NAMES[cur], overlap_f=got))
        return q

    def do_backchannel(self, cur, p):
        """The listener says a short word well inside the speaker's speech."""
        deck = self.words[1 - cur]
        if deck is None:
            return False
        w = deck.draw()
        ws, we = w.ref_extent()
        wl = we - ws
        cands = [(a + 50, b - 50 - wl) for a, b in p.ref_intervals() if b - a >= wl + 100]
        if not cands:
            return False
        lo, hi = cands[int(self.rng.integers(len(cands)))]
        at = int(self.rng.integers(lo, hi + 1))
        q = self.place(1 - cur, w, at, "backchannel")
        if q is None:
            return False
        self.backchannels.append(dict(at_f=q.ref_extent()[0], end_f=q.ref_extent()[1],
                                      by=ROLE_NAMES[1 - cur], over=ROLE_NAMES[cur]))
        return True

    def do_hold(self, cur):
        """Agent puts the customer on hold: music on the agent channel."""
        if cur != AGENT:
            return None
        start = self.t + 80
        length = int(self.rng.integers(1000, 2001))
        self.holds.append((start, start + length))
        self.free[AGENT] = max(self.free[AGENT], start + length)
        self.t = start + length
        return self.place(AGENT, self.next_utt(AGENT), self.t + 50, "turn")

    # --- the loop ---------------------------------------------------------------------

    def pending_choice(self, pending):
        """Pick a required transition now, with a probability that spreads
        the remaining ones over the remaining time, keeping special events
        >= 5 s apart unless time is running out.  Long silences and holds
        are not used in the first 15 s."""
        left = max(1.0, (self.target - self.t) / AVG_STEP)
        if not pending:
            return None
        if self.t - self.last_special < 500 and left > 1.5 * len(pending):
            return None
        if self.rng.random() > min(1.0, 1.2 * len(pending) / left):
            return None
        ok = [k for k in pending if not (k in ("vlong", "hold") and self.t < 1500)]
        return ok[int(self.rng.integers(len(ok)))] if ok else None

    def attempt(self):
        self.items, self.free, self.interruptions, self.backchannels = [], [0, 0], [], []
        self.holds, self.last_special = [], -10000
        pending = [k for k, n in self.required.items() for _ in range(n)]
        cur = AGENT
        self.t = 0
        p = self.place(AGENT, self.next_utt(AGENT), int(self.rng.integers(30, 121)), "turn")
        self.t = p.ref_extent()[1]
        conts = 0
        while self.t < self.target - 300 or (pending and self.t < 1.08 * self.target):
            kind = self.pending_choice(pending)
            q = None
            if kind == "bc":
                if self.do_backchannel(cur, p):
                    pending.remove(kind)
                    self.last_special = self.t
                kind = None
            elif kind == "interrupt" and not p.truncated:
                q = self.do_interrupt(cur, p)
            elif kind == "overlap":
                q = self.do_overlap(cur, p)
            elif kind == "long":
                q = self.do_gap(cur, 200, 300, switch=self.rng.random() < 0.7)
            elif kind == "vlong":
                q = self.do_gap(cur, 520, 700, switch=self.rng.random() < 0.7)
            elif kind == "hold":
                q = self.do_hold(cur)
            if q is not None:
                pending.remove(kind)
                self.last_special = self.t
            else:
                cont = conts == 0 and self.rng.random() < 0.3
                q = self.do_gap(cur, 30, 90, switch=not cont)
            conts = conts + 1 if (q.channel == p.channel and q.role == "turn") else 0
            cur, p = q.channel, q
            self.t = p.ref_extent()[1]
        return None if pending else self.items

    def plan(self, max_attempts=40):
        """Plan the call; returns (items, interruptions, backchannels, holds)."""
        for _ in range(max_attempts):
            items = self.attempt()
            if items is not None:
                return items, self.interruptions, self.backchannels, self.holds
        raise RuntimeError("could not fit the required transitions in %d attempts"
                           % max_attempts)
