//! DNS over TCP (RFC 7766): pipelined queries on one connection are all
//! answered, in any order, each with its own id; an idle connection is
//! closed by the server after the configured timeout.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use understudy_e2e::client::{connect_tcp, read_tcp, send_tcp};
use understudy_e2e::interop::FIRST_TRANSFER;
use understudy_e2e::message::{QueryMessage, Response, flag};
use understudy_e2e::servers::{self, Server, ServerSpec};
use understudy_e2e::wire::name_to_text;
use understudy_e2e::zones::{EXAMPLE, example};
use understudy_e2e::{Config, Understudy, ZoneConfig};

const IDLE: u64 = 2;

fn setup() -> (Server, Understudy) {
    let primary = servers::knot(ServerSpec::new().primary_zone(EXAMPLE, &example(1, 50)));
    let config = Config::new("tcp")
        .dns("tcp_idle_timeout", &format!("\"{IDLE}s\""))
        .zone(ZoneConfig::new(EXAMPLE, &[primary.addr()]));
    let node = Understudy::start_serving(config, FIRST_TRANSFER);
    (primary, node)
}

fn pipelined(server: SocketAddr) {
    let mut stream = connect_tcp(server).expect("connect");
    let mut sent = BTreeMap::new();
    let mut burst = Vec::new();
    for i in 0..25u16 {
        let name = format!("h{i}.example.test.");
        let mut query = QueryMessage::new(&name, if i % 5 == 4 { 28 } else { 1 });
        query.id = 1000 + i * 7;
        let wire = query.to_wire().expect("encode");
        burst.extend_from_slice(&u16::try_from(wire.len()).expect("len").to_be_bytes());
        burst.extend_from_slice(&wire);
        sent.insert(query.id, query);
    }
    // All 25 queries leave in one write: the server must not wait for an
    // answer to be read before it reads the next query.
    std::io::Write::write_all(&mut stream, &burst).expect("send burst");
    for _ in 0..sent.len() {
        let bytes = read_tcp(&mut stream).expect("a response for every pipelined query");
        let reply = Response::parse(&bytes).expect("parse");
        let query = sent
            .remove(&reply.id)
            .unwrap_or_else(|| panic!("unknown or repeated id {}", reply.id));
        assert!(reply.has(flag::AA), "{}", reply.to_text());
        assert_eq!(name_to_text(&reply.questions[0].name), query.name);
        assert_eq!(reply.questions[0].qtype, query.qtype);
        let expected = usize::from(query.qtype == 1);
        assert_eq!(reply.answer.len(), expected, "{}", reply.to_text());
    }
    assert!(sent.is_empty());
    send_tcp(
        &mut stream,
        &QueryMessage::new(EXAMPLE, 6).to_wire().expect("encode"),
    )
    .expect("send");
    let last = Response::parse(&read_tcp(&mut stream).expect("read")).expect("parse");
    assert_eq!(last.answers_of(6).len(), 1, "the connection stays usable");
}

#[test]
fn rfc7766_6_2_1_1_pipelined_queries_answered_with_matching_ids() {
    let (_primary, node) = setup();
    pipelined(node.addr());
    pipelined(node.addr6());
}

#[test]
fn rfc7766_6_2_3_idle_connection_closed_after_timeout() {
    let (_primary, node) = setup();
    let mut stream = connect_tcp(node.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(IDLE * 6)))
        .expect("timeout");
    send_tcp(
        &mut stream,
        &QueryMessage::new(EXAMPLE, 6).to_wire().expect("encode"),
    )
    .expect("send");
    let reply = Response::parse(&read_tcp(&mut stream).expect("answer")).expect("parse");
    assert_eq!(reply.answers_of(6).len(), 1);
    let idle_from = Instant::now();
    let mut rest = Vec::new();
    let read = stream.read_to_end(&mut rest);
    let idle = idle_from.elapsed();
    assert!(
        read.is_ok() || idle < Duration::from_secs(IDLE * 6),
        "not closed: {read:?}"
    );
    assert!(rest.is_empty(), "unexpected bytes after the answer");
    assert!(
        idle >= Duration::from_millis(IDLE * 1000 / 2) && idle <= Duration::from_secs(IDLE * 4),
        "closed after {idle:?}, configured {IDLE}s"
    );
}

#[test]
fn rfc7766_6_2_3_silent_connection_closed_after_timeout() {
    let (_primary, node) = setup();
    let mut stream = connect_tcp(node.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(IDLE * 6)))
        .expect("timeout");
    let start = Instant::now();
    let mut rest = Vec::new();
    let read = stream.read_to_end(&mut rest);
    let idle = start.elapsed();
    assert!(read.is_ok() && rest.is_empty(), "{read:?} {rest:?}");
    assert!(
        idle <= Duration::from_secs(IDLE * 4),
        "closed after {idle:?}"
    );
}
