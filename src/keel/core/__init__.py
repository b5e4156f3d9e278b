"""Pure building blocks shared by every feature: ids, errors, time, pagination. No I/O lives here."""
