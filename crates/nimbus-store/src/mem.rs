//! [`MemStore`]: the in-memory reference implementation of [`Store`](crate::Store).
//! Not durable; for unit tests of the layers above and as the contract's executable spec.

use std::collections::BTreeMap;
use std::sync::RwLock;

use crate::{
    Check, Commit, Direction, Error, KeyRange, Op, Result, Store, WriteBatch, add_to_counters,
    append_key, append_number,
};

/// An ordered map behind a lock.
#[derive(Debug, Default)]
pub struct MemStore {
    map: RwLock<BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl MemStore {
    pub fn new() -> Self {
        Self::default()
    }
}

fn poisoned<T>(_: T) -> Error {
    Error::Backend("memory store lock poisoned".into())
}

impl Store for MemStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.map.read().map_err(poisoned)?.get(key).cloned())
    }

    fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        let map = self.map.read().map_err(poisoned)?;
        Ok(keys.iter().map(|key| map.get(*key).cloned()).collect())
    }

    fn scan(
        &self,
        range: &KeyRange,
        direction: Direction,
        visit: &mut crate::Visitor<'_>,
    ) -> Result<()> {
        let map = self.map.read().map_err(poisoned)?;
        let iter = map.range::<Vec<u8>, _>((range.start.clone(), range.end.clone()));
        let mut step = |(k, v): (&Vec<u8>, &Vec<u8>)| visit(k, v);
        match direction {
            Direction::Forward => {
                for pair in iter {
                    if step(pair).is_break() {
                        break;
                    }
                }
            }
            Direction::Reverse => {
                for pair in iter.rev() {
                    if step(pair).is_break() {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    fn commit(&self, batch: WriteBatch) -> Result<()> {
        let mut map = self.map.write().map_err(poisoned)?;
        for (index, check) in batch.checks.iter().enumerate() {
            let holds = match check {
                Check::Absent(k) => !map.contains_key(k),
                Check::Equals(k, v) => map.get(k) == Some(v),
            };
            if !holds {
                return Err(Error::Conflict { index });
            }
        }
        for op in batch.ops {
            match op {
                Op::Put(k, v) => {
                    map.insert(k, v);
                }
                Op::Delete(k) => {
                    map.remove(&k);
                }
                Op::DeleteRange(r) => map.retain(|k, _| !r.contains(k)),
                Op::Add(k, deltas) => {
                    let sum = add_to_counters(map.get(&k).map(Vec::as_slice), &deltas);
                    map.insert(k, sum);
                }
                Op::Append(prefix, v) => {
                    let last = map
                        .range::<Vec<u8>, _>(KeyRange::prefix(&prefix).bounds())
                        .filter_map(|(k, _)| append_number(&prefix, k))
                        .next_back()
                        .unwrap_or(0);
                    map.insert(append_key(&prefix, last + 1), v);
                }
            }
        }
        Ok(())
    }

    /// Resolves on the spot: a memory commit never waits.
    fn commit_async(&self, batch: WriteBatch) -> Commit {
        Box::pin(std::future::ready(self.commit(batch)))
    }

    fn flush(&self) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{append_key, append_number, prefix_successor};
    use std::ops::ControlFlow;

    #[test]
    fn checks_guard_the_whole_batch() {
        let s = MemStore::new();
        let mut b = WriteBatch::new();
        b.check_absent(b"a".to_vec())
            .put(b"a".to_vec(), b"1".to_vec());
        s.commit(b.clone()).unwrap();
        assert!(matches!(s.commit(b), Err(Error::Conflict { index: 0 })));
        assert_eq!(s.get(b"a").unwrap(), Some(b"1".to_vec()));
    }

    #[test]
    fn add_sums_counters_without_checks() {
        let s = MemStore::new();
        let mut b = WriteBatch::new();
        b.add(b"c".to_vec(), vec![1, -5]);
        s.commit(b.clone()).unwrap();
        s.commit(b).unwrap();
        let mut expected = 2i64.to_be_bytes().to_vec();
        expected.extend_from_slice(&(-10i64).to_be_bytes());
        assert_eq!(s.get(b"c").unwrap(), Some(expected));
    }

    #[test]
    fn counters_grow_and_drop_partial_integers() {
        assert_eq!(add_to_counters(Some(&[0; 7]), &[1]), 1i64.to_be_bytes());
        let one = add_to_counters(None, &[1]);
        assert_eq!(one, 1i64.to_be_bytes());
        let two = add_to_counters(Some(&one), &[0, 3]);
        assert_eq!(&two[..8], 1i64.to_be_bytes());
        assert_eq!(&two[8..], 3i64.to_be_bytes());
        assert_eq!(add_to_counters(Some(&two), &[]), two);
        assert_eq!(
            add_to_counters(Some(&i64::MAX.to_be_bytes()), &[1]),
            i64::MIN.to_be_bytes()
        );
    }

    #[test]
    fn appends_number_a_log_in_commit_order() {
        let s = MemStore::new();
        let mut b = WriteBatch::new();
        b.append(b"log/".to_vec(), b"a".to_vec())
            .append(b"log/".to_vec(), b"b".to_vec());
        s.commit(b).unwrap();
        let mut b = WriteBatch::new();
        b.append(b"log/".to_vec(), b"c".to_vec())
            .append(b"other/".to_vec(), b"x".to_vec());
        s.commit(b).unwrap();
        let mut seen = Vec::new();
        s.scan(
            &KeyRange::prefix(b"log/"),
            Direction::Forward,
            &mut |k, v| {
                seen.push((append_number(b"log/", k), v.to_vec()));
                ControlFlow::Continue(())
            },
        )
        .unwrap();
        assert_eq!(
            seen,
            vec![
                (Some(1), b"a".to_vec()),
                (Some(2), b"b".to_vec()),
                (Some(3), b"c".to_vec())
            ]
        );
        assert_eq!(
            s.get(&append_key(b"other/", 1)).unwrap(),
            Some(b"x".to_vec())
        );
    }

    #[test]
    fn prefix_scan_both_ways() {
        let s = MemStore::new();
        let mut b = WriteBatch::new();
        for k in [&b"p1"[..], b"p2", b"p3", b"q1"] {
            b.put(k.to_vec(), k.to_vec());
        }
        s.commit(b).unwrap();
        let mut seen = Vec::new();
        s.scan(&KeyRange::prefix(b"p"), Direction::Reverse, &mut |k, _| {
            seen.push(k.to_vec());
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(seen, vec![b"p3".to_vec(), b"p2".to_vec(), b"p1".to_vec()]);
        assert_eq!(prefix_successor(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_successor(&[0xff]), None);
    }
}
