//! `understudy keygen` and key material helpers.
