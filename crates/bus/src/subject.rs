//! NATS subject matching (`*` one token, `>` one or more trailing tokens), for the
//! in-process bus's consumer filters.

/// True when `subject` matches the NATS filter `filter`.
pub(crate) fn matches(filter: &str, subject: &str) -> bool {
    let mut subject_tokens = subject.split('.');
    for token in filter.split('.') {
        match (token, subject_tokens.next()) {
            (">", Some(_)) => return true,
            ("*", Some(_)) => {}
            (literal, Some(actual)) if literal == actual => {}
            _ => return false,
        }
    }
    subject_tokens.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn wildcards_follow_nats_rules() {
        assert!(matches("prospector.tiles", "prospector.tiles"));
        assert!(!matches("prospector.tiles", "prospector.tiles.a"));
        assert!(matches("prospector.dead.>", "prospector.dead.scorer"));
        assert!(matches("prospector.dead.>", "prospector.dead.a.b"));
        assert!(!matches("prospector.dead.>", "prospector.dead"));
        assert!(matches("prospector.*.x", "prospector.tiles.x"));
        assert!(!matches("prospector.*.x", "prospector.tiles.y"));
        assert!(!matches("prospector.scores", "prospector"));
    }
}
