//! Which agent handled each call, for the dashboard's per-agent figures.
//!
//! Two sources, both optional: a regular expression on the file name whose
//! first capture group is the agent id (`--agent-from '^(\w+)_'`), and a
//! manifest CSV with columns `file,agent` (`--manifest calls.csv`). The
//! manifest wins where both name an agent: it is the more deliberate of the
//! two. A manifest `file` matches an input given with that same path, the
//! same file (the path read relative to the manifest's directory), or, when
//! it is a bare file name, an input with that name.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Why the agent ids cannot be read. Not recoverable: the command stops
/// before analysing anything.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentIdError {
    /// `--agent-from` is not a valid regular expression.
    #[error("--agent-from {pattern:?} is not a valid regular expression: {source}")]
    Pattern {
        /// The expression.
        pattern: String,
        /// The parser's reason.
        #[source]
        source: regex::Error,
    },
    /// `--agent-from` has no capture group to take the id from.
    #[error(
        "--agent-from {0:?} has no capture group: put the agent id in parentheses, e.g. '^([a-z]+)_'"
    )]
    NoGroup(String),
    /// The manifest cannot be read or parsed.
    #[error("manifest {path}: {reason}")]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong, with the line where it applies.
        reason: String,
    },
}

/// Where agent ids come from.
#[derive(Clone, Debug, Default)]
pub struct AgentIds {
    pattern: Option<regex::Regex>,
    /// Manifest rows by the path as written.
    given: HashMap<String, String>,
    /// By the file the row names, resolved from the manifest's directory.
    canonical: HashMap<PathBuf, String>,
    /// By bare file name; `None` when two rows share a name.
    by_name: HashMap<String, Option<String>>,
}

impl AgentIds {
    /// No agent ids.
    pub fn none() -> AgentIds {
        AgentIds::default()
    }

    /// Takes ids from the first capture group of `pattern` on file names.
    pub fn with_pattern(mut self, pattern: &str) -> Result<AgentIds, AgentIdError> {
        let re = regex::Regex::new(pattern).map_err(|source| AgentIdError::Pattern {
            pattern: pattern.into(),
            source,
        })?;
        if re.captures_len() < 2 {
            return Err(AgentIdError::NoGroup(pattern.into()));
        }
        self.pattern = Some(re);
        Ok(self)
    }

    /// Reads a manifest CSV with a header naming `file` and `agent` (other
    /// columns are ignored; an empty agent means none).
    pub fn with_manifest(mut self, path: &Path) -> Result<AgentIds, AgentIdError> {
        let fail = |reason: String| AgentIdError::Manifest {
            path: path.to_path_buf(),
            reason,
        };
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .from_path(path)
            .map_err(|e| fail(e.to_string()))?;
        let headers = reader.headers().map_err(|e| fail(e.to_string()))?.clone();
        let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
        let (Some(file_col), Some(agent_col)) = (col("file"), col("agent")) else {
            return Err(fail(format!(
                "needs a header with columns `file` and `agent` (found: {})",
                headers.iter().collect::<Vec<_>>().join(",")
            )));
        };
        let base = path.parent().unwrap_or(Path::new(""));
        for (i, record) in reader.records().enumerate() {
            let record = record.map_err(|e| fail(e.to_string()))?;
            let file = record.get(file_col).unwrap_or("");
            let agent = record.get(agent_col).unwrap_or("");
            if file.is_empty() {
                return Err(fail(format!("line {}: empty `file`", i + 2)));
            }
            if agent.is_empty() {
                continue;
            }
            self.given.insert(file.into(), agent.into());
            if let Ok(c) = base.join(file).canonicalize() {
                self.canonical.insert(c, agent.into());
            }
            if !file.contains(['/', '\\']) {
                self.by_name
                    .entry(file.into())
                    .and_modify(|a| {
                        if a.as_deref() != Some(agent) {
                            *a = None;
                        }
                    })
                    .or_insert_with(|| Some(agent.into()));
            }
        }
        Ok(self)
    }

    /// True when neither source was given.
    pub fn is_empty(&self) -> bool {
        self.pattern.is_none() && self.given.is_empty()
    }

    /// The agent of the call in `path`, if any source names one.
    pub fn agent_for(&self, path: &Path) -> Option<String> {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let from_manifest = self
            .given
            .get(path.to_string_lossy().as_ref())
            .cloned()
            .or_else(|| {
                path.canonicalize()
                    .ok()
                    .and_then(|c| self.canonical.get(&c).cloned())
            })
            .or_else(|| {
                name.as_ref()
                    .and_then(|n| self.by_name.get(n).cloned().flatten())
            });
        from_manifest.or_else(|| {
            let re = self.pattern.as_ref()?;
            let id = re.captures(name.as_deref()?)?.get(1)?.as_str();
            (!id.is_empty()).then(|| id.to_owned())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_takes_the_first_group_of_the_file_name() {
        let ids = AgentIds::none().with_pattern(r"^([a-z]+)_\d+").unwrap();
        assert_eq!(
            ids.agent_for(Path::new("calls/2024/anna_0012.wav"))
                .as_deref(),
            Some("anna")
        );
        assert_eq!(ids.agent_for(Path::new("calls/x-1.wav")), None);
        assert!(matches!(
            AgentIds::none().with_pattern("^[a-z]+_"),
            Err(AgentIdError::NoGroup(_))
        ));
        assert!(matches!(
            AgentIds::none().with_pattern("(["),
            Err(AgentIdError::Pattern { .. })
        ));
    }

    #[test]
    fn manifest_matches_paths_files_and_names_and_wins() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("day1")).unwrap();
        let call = dir.path().join("day1").join("anna_1.wav");
        std::fs::write(&call, b"").unwrap();
        let manifest = dir.path().join("m.csv");
        std::fs::write(
            &manifest,
            "agent,file,team\n bob , day1/anna_1.wav ,x\ncarl,other.wav,y\n,empty.wav,z\n",
        )
        .unwrap();
        let ids = AgentIds::none()
            .with_pattern(r"^([a-z]+)_")
            .unwrap()
            .with_manifest(&manifest)
            .unwrap();
        assert_eq!(ids.agent_for(&call).as_deref(), Some("bob"), "same file");
        assert_eq!(
            ids.agent_for(Path::new("/elsewhere/other.wav")).as_deref(),
            Some("carl"),
            "bare name"
        );
        assert_eq!(
            ids.agent_for(Path::new("/x/dora_2.wav")).as_deref(),
            Some("dora"),
            "not in the manifest: the pattern"
        );
        assert_eq!(ids.agent_for(Path::new("empty.wav")), None);
        std::fs::write(&manifest, "path,who\nx,y\n").unwrap();
        let err = AgentIds::none().with_manifest(&manifest).unwrap_err();
        assert!(err.to_string().contains("`file` and `agent`"), "{err}");
    }
}
