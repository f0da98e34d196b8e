"""Messages to people: a durable outbox table, templates in two languages, pluggable senders."""
