//! DNS messages on the wire: reading and building whole messages.
