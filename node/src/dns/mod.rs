//! DNS listeners: UDP and TCP, the only socket code for queries.
