"""Context for every event: who is behind it (identity), what a dialled number is and where an address is
(phone numbers, GeoIP/ASN), and what may leave the agent (privacy). Runs in the parse workers, after an
event is validated and before it is serialized; a failed lookup never drops an event, it adds a tag."""
