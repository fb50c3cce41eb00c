//! The control API: a local Unix socket for `understudy ctl`.
