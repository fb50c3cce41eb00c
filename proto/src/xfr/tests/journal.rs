use super::*;

#[test]
fn journal_keeps_consecutive_diffs_within_bounds() {
    let mut journal = Journal::new(
        zone(),
        JournalLimits {
            max_diffs: 3,
            max_bytes: usize::MAX,
        },
    );
    for from in 1..=5 {
        journal.push(journal_diff(from, 0)).unwrap();
    }
    assert_eq!(
        (journal.len(), journal.first_serial(), journal.serial()),
        (3, Some(3), Some(6))
    );
    assert_eq!(journal.diffs_since(6), Some(vec![]));
    let since4: Vec<u32> = journal
        .diffs_since(4)
        .unwrap()
        .iter()
        .map(|d| d.from)
        .collect();
    assert_eq!(since4, vec![4, 5]);
    assert_eq!(journal.diffs_since(2), None);
    assert_eq!(
        journal.push(journal_diff(9, 0)),
        Err(JournalError::NotConsecutive {
            expected: 6,
            found: 9
        })
    );
    journal.reset(9);
    journal.push(journal_diff(9, 0)).unwrap();
    assert_eq!((journal.len(), journal.serial()), (1, Some(10)));

    let mut small = Journal::new(
        zone(),
        JournalLimits {
            max_diffs: 100,
            max_bytes: 2000,
        },
    );
    small.push(journal_diff(1, 40)).unwrap();
    small.push(journal_diff(2, 40)).unwrap();
    assert!(small.byte_size() <= 2000);
    assert_eq!(small.first_serial(), Some(2));
    small.push(journal_diff(3, 500)).unwrap();
    assert!(small.is_empty(), "a diff beyond the byte bound is not kept");
    assert_eq!(small.serial(), Some(4), "but the serial is");
    assert!(small.push(journal_diff(4, 0)).is_ok());
}

#[test]
fn journal_bytes_round_trip_and_detect_damage() {
    let mut journal = Journal::new(zone(), JournalLimits::default());
    for from in 10..14 {
        journal.push(journal_diff(from, 3)).unwrap();
    }
    let bytes = journal.to_bytes();
    assert_eq!(
        Journal::from_bytes(&bytes, &zone(), JournalLimits::default()),
        Ok(journal.clone())
    );
    let fewer = Journal::from_bytes(
        &bytes,
        &zone(),
        JournalLimits {
            max_diffs: 2,
            max_bytes: usize::MAX,
        },
    )
    .unwrap();
    assert_eq!((fewer.len(), fewer.serial()), (2, Some(14)));
    assert_eq!(
        Journal::from_bytes(&bytes, &name("other."), JournalLimits::default()),
        Err(JournalError::WrongZone(zone()))
    );
    for cut in 0..bytes.len() {
        assert!(
            Journal::from_bytes(&bytes[..cut], &zone(), JournalLimits::default()).is_err(),
            "cut {cut}"
        );
    }
    for position in (0..bytes.len()).step_by(7) {
        let mut damaged = bytes.clone();
        damaged[position] ^= 0x20;
        assert!(
            Journal::from_bytes(&damaged, &zone(), JournalLimits::default()).is_err(),
            "flip at {position}"
        );
    }
    let empty = Journal::new(zone(), JournalLimits::default());
    assert_eq!(
        Journal::from_bytes(&empty.to_bytes(), &zone(), JournalLimits::default()),
        Ok(empty)
    );
}
