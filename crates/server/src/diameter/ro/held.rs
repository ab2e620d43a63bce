//! What one OCF node holds in memory so that a CCR reads nothing from the store on its hot
//! path (ADR 0046): the credit-control sessions it has answered, each with its latest answers,
//! and the ledger accounts it has planned on.
//!
//! The store stays the truth. Every batch that was planned from memory is guarded: the
//! session row is written only if it is still at the version the node holds
//! ([`unicharge_store::Write::RoSession`]), the account's operations only if the account is
//! still at the movement the node holds ([`unicharge_store::Write::LedgerUnchanged`]). When
//! another node, the Tcc sweep, the operator (a top-up, an abort) or another front door (EFC,
//! OCPP cost) moved a row, the batch fails as stale and writes nothing; the OCF forgets the
//! row, reads it again and plans again. So memory can only make a CCR slower, never wrong.
//!
//! Only a node's own commits put rows here (after the commit, under the account's stripe
//! lock), and a row read from the store is kept only where none is held yet.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use hashlink::LruCache;
use unicharge_core::ledger::Account;
use unicharge_store::ro::{RoAnswerRow, RoSessionRow};

/// Sessions held; the least recently used is forgotten first (its next CCR reads the store).
const SESSIONS: usize = 100_000;
/// Accounts held.
const ACCOUNTS: usize = 100_000;
/// Answers held per session: a retransmission older than these is looked up in the store.
const ANSWERS: usize = 4;

/// A session as this node last wrote or read it.
#[derive(Debug, Clone)]
pub(super) struct HeldSession {
    /// `None`: the store has no row for this Session-Id (yet).
    pub row: Option<RoSessionRow>,
    /// The answers of the latest request numbers, encoded, oldest first.
    answers: VecDeque<(i64, Arc<[u8]>)>,
    /// Every request number at or above this one that has an answer is in `answers`.
    complete_from: i64,
}

/// Whether a request number was answered, as far as memory knows.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Answered {
    Yes(Arc<[u8]>),
    No,
    /// Older than what is held: ask the store.
    AskStore,
}

impl HeldSession {
    /// From the store's row and every answer it keeps for the session.
    pub fn from_store(row: Option<RoSessionRow>, mut answers: Vec<RoAnswerRow>) -> HeldSession {
        answers.sort_by_key(|a| a.request_number);
        let skip = answers.len().saturating_sub(ANSWERS);
        let kept: VecDeque<(i64, Arc<[u8]>)> = answers
            .into_iter()
            .skip(skip)
            .map(|a| (a.request_number, Arc::from(a.answer)))
            .collect();
        let complete_from = if skip == 0 {
            i64::MIN
        } else {
            kept.front().map_or(i64::MIN, |(n, _)| *n)
        };
        HeldSession {
            row,
            answers: kept,
            complete_from,
        }
    }

    pub fn answered(&self, number: i64) -> Answered {
        match self.answers.iter().find(|(n, _)| *n == number) {
            Some((_, a)) => Answered::Yes(a.clone()),
            None if number >= self.complete_from => Answered::No,
            None => Answered::AskStore,
        }
    }

    /// The session after a committed CCR: its new row and the answer it was given.
    pub fn after(&self, row: Option<RoSessionRow>, number: i64, answer: &[u8]) -> HeldSession {
        let mut next = HeldSession {
            row: row.or_else(|| self.row.clone()),
            answers: self.answers.clone(),
            complete_from: self.complete_from,
        };
        next.answers.push_back((number, Arc::from(answer)));
        if next.answers.len() > ANSWERS {
            if let Some((oldest, _)) = next.answers.pop_front() {
                next.complete_from = next.complete_from.max(oldest + 1);
            }
        }
        next
    }
}

/// The node's memory of sessions and accounts.
pub(super) struct Held {
    sessions: Mutex<LruCache<String, Arc<HeldSession>>>,
    accounts: Mutex<LruCache<String, Arc<Account>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every change is one call into the map: a poisoned lock still holds a whole map.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Default for Held {
    fn default() -> Self {
        Held {
            sessions: Mutex::new(LruCache::new(SESSIONS)),
            accounts: Mutex::new(LruCache::new(ACCOUNTS)),
        }
    }
}

impl Held {
    pub fn session(&self, id: &str) -> Option<Arc<HeldSession>> {
        lock(&self.sessions).get(id).cloned()
    }

    /// A session read from the store, kept only if none is held (a commit's row is newer).
    pub fn offer_session(&self, id: &str, s: Arc<HeldSession>) -> Arc<HeldSession> {
        let mut map = lock(&self.sessions);
        if let Some(held) = map.get(id) {
            return held.clone();
        }
        map.insert(id.to_owned(), s.clone());
        s
    }

    /// The session as a commit of this node left it.
    pub fn put_session(&self, id: &str, s: HeldSession) {
        lock(&self.sessions).insert(id.to_owned(), Arc::new(s));
    }

    pub fn forget_session(&self, id: &str) {
        lock(&self.sessions).remove(id);
    }

    pub fn account(&self, id: &str) -> Option<Arc<Account>> {
        lock(&self.accounts).get(id).cloned()
    }

    pub fn put_account(&self, a: Account) {
        lock(&self.accounts).insert(a.id.clone(), Arc::new(a));
    }

    pub fn forget_account(&self, id: &str) {
        lock(&self.accounts).remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn answer(n: i64) -> RoAnswerRow {
        RoAnswerRow {
            session_id: "s".into(),
            request_number: n,
            request_type: 2,
            result_code: 2001,
            answer: vec![n as u8],
            answered_at: Utc::now(),
        }
    }

    #[test]
    fn every_answer_known_when_few() {
        let h = HeldSession::from_store(None, vec![answer(1), answer(0)]);
        assert_eq!(h.answered(0), Answered::Yes(Arc::from(vec![0u8])));
        assert_eq!(h.answered(2), Answered::No);
        assert_eq!(h.answered(-5), Answered::No);
    }

    #[test]
    fn older_answers_than_held_go_to_the_store() {
        let h = HeldSession::from_store(None, (0..10).map(answer).collect());
        assert_eq!(h.answered(9), Answered::Yes(Arc::from(vec![9u8])));
        assert_eq!(h.answered(6), Answered::Yes(Arc::from(vec![6u8])));
        assert_eq!(h.answered(5), Answered::AskStore);
        assert_eq!(h.answered(10), Answered::No);
        let h = h.after(None, 10, &[10]);
        assert_eq!(h.answered(6), Answered::AskStore);
        assert_eq!(h.answered(10), Answered::Yes(Arc::from(vec![10u8])));
        assert_eq!(h.answered(11), Answered::No);
    }

    #[test]
    fn out_of_order_numbers_stay_exact() {
        let mut h = HeldSession::from_store(None, vec![]);
        for n in [0, 1, 5, 2, 3, 4] {
            assert_eq!(h.answered(n), Answered::No);
            h = h.after(None, n, &[n as u8]);
        }
        // 5 was pushed third and is held; 0 and 1 were pushed out.
        assert_eq!(h.answered(5), Answered::Yes(Arc::from(vec![5u8])));
        assert_eq!(h.answered(0), Answered::AskStore);
        assert_eq!(h.answered(1), Answered::AskStore);
        assert_eq!(h.answered(6), Answered::No);
    }
}
