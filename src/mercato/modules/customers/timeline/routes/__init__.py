"""HTTP routes of the customers timeline (thin: parse -> command/service -> shape)."""
