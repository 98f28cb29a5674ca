"""Patient communications: reminders and confirmations, recalls, surveys and feedback cases."""
