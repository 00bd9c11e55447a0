//! Which channel carries whom.
//!
//! Call recorders put the agent on one channel and the customer on the other;
//! the usual convention, and hearken's default, is channel 0 = agent and
//! channel 1 = customer. `--roles customer,agent` swaps them, `-` skips a
//! channel (`--roles -,agent,customer` for a recorder that puts a beep track
//! first). A mono recording is one mixed stream whose speaker is called
//! `speaker` until diarization separates it.

/// One analysed stream: a speaker id and the file channel it comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Speaker {
    /// `agent`, `customer`, `speaker` (mono), or a name given with `--roles`.
    pub id: String,
    /// Zero-based channel index in the file.
    pub channel: usize,
}

/// Why a role mapping is unusable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RoleError {
    /// A name is empty, has whitespace, or is reserved.
    #[error(
        "invalid role name {0:?} (use letters, digits, '_' or '-', or '-' alone to skip a channel)"
    )]
    BadName(String),
    /// The same name twice.
    #[error("role {0:?} is given twice")]
    Duplicate(String),
    /// Every channel skipped.
    #[error("the roles skip every channel")]
    NothingLeft,
}

/// A role mapping: the speaker id of each channel, in channel order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Roles {
    names: Vec<Option<String>>,
}

impl Default for Roles {
    fn default() -> Roles {
        Roles {
            names: vec![Some("agent".into()), Some("customer".into())],
        }
    }
}

impl Roles {
    /// Parses `agent,customer`-style lists; `-` skips a channel.
    pub fn parse(s: &str) -> Result<Roles, RoleError> {
        let mut names = Vec::new();
        for raw in s.split(',') {
            let name = raw.trim();
            if name == "-" {
                names.push(None);
                continue;
            }
            let ok = !name.is_empty()
                && name != "speaker"
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !ok {
                return Err(RoleError::BadName(name.to_string()));
            }
            if names.iter().flatten().any(|n| n == name) {
                return Err(RoleError::Duplicate(name.to_string()));
            }
            names.push(Some(name.to_string()));
        }
        if names.iter().all(Option::is_none) {
            return Err(RoleError::NothingLeft);
        }
        Ok(Roles { names })
    }

    /// The speakers of a file with `channels` channels. Mono files give one
    /// mixed `speaker`; otherwise each named channel that exists becomes a
    /// speaker, and channels beyond the mapping are ignored.
    pub fn assign(&self, channels: usize) -> Vec<Speaker> {
        if channels <= 1 {
            return vec![Speaker {
                id: "speaker".into(),
                channel: 0,
            }];
        }
        let speakers: Vec<Speaker> = self
            .names
            .iter()
            .enumerate()
            .take(channels)
            .filter_map(|(channel, n)| {
                n.as_ref().map(|id| Speaker {
                    id: id.clone(),
                    channel,
                })
            })
            .collect();
        if speakers.is_empty() {
            // A mapping such as `-,-,agent` on a stereo file: fall back to
            // the default rather than analysing nothing.
            return Roles::default().assign(channels);
        }
        speakers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[Speaker]) -> Vec<(&str, usize)> {
        v.iter().map(|s| (s.id.as_str(), s.channel)).collect()
    }

    #[test]
    fn defaults_and_mono() {
        let r = Roles::default();
        assert_eq!(ids(&r.assign(2)), [("agent", 0), ("customer", 1)]);
        assert_eq!(ids(&r.assign(1)), [("speaker", 0)]);
        assert_eq!(ids(&r.assign(6)), [("agent", 0), ("customer", 1)]);
    }

    #[test]
    fn swapped_and_skipped() {
        let r = Roles::parse("customer,agent").unwrap();
        assert_eq!(ids(&r.assign(2)), [("customer", 0), ("agent", 1)]);
        let r = Roles::parse("-,agent,customer").unwrap();
        assert_eq!(ids(&r.assign(3)), [("agent", 1), ("customer", 2)]);
        assert_eq!(ids(&r.assign(2)), [("agent", 1)]);
    }

    #[test]
    fn bad_lists() {
        assert!(matches!(
            Roles::parse("agent,agent"),
            Err(RoleError::Duplicate(_))
        ));
        assert!(matches!(Roles::parse("a b"), Err(RoleError::BadName(_))));
        assert!(matches!(Roles::parse("-,-"), Err(RoleError::NothingLeft)));
        assert!(matches!(Roles::parse("agent,"), Err(RoleError::BadName(_))));
    }
}
