//! Access control lists: address prefixes and TSIG key names.
