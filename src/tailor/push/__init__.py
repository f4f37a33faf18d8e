"""Push planning (个性化推送): who gets a push, which items, when, within frequency caps and
outside quiet hours; push outcomes come back as events and are summarised by `push_report`."""
