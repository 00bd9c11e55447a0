//! Which diarized speaker is the agent.
//!
//! Diarization finds voices, not roles. For a two-speaker call the rule is,
//! in order:
//!
//! 1. with a transcript and `[diarize] greetings = true`, the first speaker
//!    to say an agent phrase (`agent_phrases`: "thank you for calling",
//!    "how can I help"…) within the first `greeting_window_s` of the call is
//!    the agent — what is said is better evidence than who spoke first (a
//!    customer may say "hello?" before the agent's greeting);
//! 2. otherwise the first speaker to speak is the agent (`agent_first =
//!    true`, the default: the agent answers the inbound call), or the
//!    customer (`agent_first = false`, `--customer-first`: outbound calls
//!    where the customer picks up and says "hello").
//!
//! Speakers are numbered in order of appearance by the diarizer, so rule 2
//! is a naming of speaker 0.

use crate::time::Time;

/// The agent phrases used when the config does not list its own.
pub const DEFAULT_AGENT_PHRASES: &[&str] = &[
    "thank you for calling",
    "thanks for calling",
    "thank you for holding",
    "how can i help",
    "how may i help",
    "how can i assist",
    "how may i assist",
    "what can i do for you",
    "you've reached",
    "you have reached",
    "welcome to",
];

/// How a role was decided (for the report).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleRule {
    /// The first speaker is the agent.
    AgentFirst,
    /// The first speaker is the customer.
    CustomerFirst,
    /// An agent phrase in the transcript.
    Greeting,
}

impl RoleRule {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            RoleRule::AgentFirst => "first-speaker-is-agent",
            RoleRule::CustomerFirst => "first-speaker-is-customer",
            RoleRule::Greeting => "greeting",
        }
    }
}

/// Lower case, letters, digits and apostrophes, single spaces, padded with
/// a space on each side (for word-boundary matching).
fn normalise(text: &str) -> String {
    let mut out = String::from(" ");
    for c in text.chars() {
        let c = c.to_ascii_lowercase();
        let c = if c == '’' { '\'' } else { c };
        if c.is_alphanumeric() || c == '\'' {
            out.push(c);
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    out
}

/// The speaker who first says one of `phrases` in an utterance starting
/// before `window`; `utterances` are `(speaker, start, text)` in time order.
pub fn agent_by_greeting<'a>(
    utterances: impl IntoIterator<Item = (usize, Time, &'a str)>,
    phrases: &[String],
    window: Time,
) -> Option<usize> {
    let wanted: Vec<String> = phrases
        .iter()
        .map(|p| normalise(p))
        .filter(|p| p.trim().len() > 1)
        .collect();
    for (speaker, start, text) in utterances {
        if start > window {
            break;
        }
        let t = normalise(text);
        if wanted.iter().any(|p| t.contains(p.as_str())) {
            return Some(speaker);
        }
    }
    None
}

/// The speaker index of the agent among two diarized speakers (0 = first
/// to speak), and the rule that decided it.
pub fn agent_of_two(greeting: Option<usize>, agent_first: bool) -> (usize, RoleRule) {
    match greeting {
        Some(s) => (s, RoleRule::Greeting),
        None if agent_first => (0, RoleRule::AgentFirst),
        None => (1, RoleRule::CustomerFirst),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phrases() -> Vec<String> {
        DEFAULT_AGENT_PHRASES
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn a_greeting_names_the_agent_even_when_the_customer_spoke_first() {
        let utts = [
            (0, Time::from_secs(0.5), "Hello?"),
            (
                1,
                Time::from_secs(1.5),
                "Thank you for calling Acme, how can I help?",
            ),
        ];
        assert_eq!(
            agent_by_greeting(utts, &phrases(), Time::from_secs(60.0)),
            Some(1)
        );
        assert_eq!(agent_of_two(Some(1), true), (1, RoleRule::Greeting));
    }

    #[test]
    fn phrases_match_whole_words_only_and_within_the_window() {
        let p = vec!["how can i help".to_string()];
        let w = Time::from_secs(60.0);
        assert_eq!(
            agent_by_greeting([(0, Time::ZERO, "somehow can I helpful")], &p, w),
            None
        );
        assert_eq!(
            agent_by_greeting([(1, Time::from_secs(90.0), "how can I help")], &p, w),
            None
        );
        assert_eq!(
            agent_by_greeting([(1, Time::ZERO, "So, how can I help you?")], &p, w),
            Some(1)
        );
    }

    #[test]
    fn without_a_greeting_the_first_speaker_rule_decides() {
        assert_eq!(agent_of_two(None, true), (0, RoleRule::AgentFirst));
        assert_eq!(agent_of_two(None, false), (1, RoleRule::CustomerFirst));
    }
}
