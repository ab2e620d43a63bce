//! The ledger in memory: the reference semantics (references applied once) that the store
//! reproduces with its tables, and what the property tests drive.

use std::collections::HashMap;

use super::{Account, LedgerError, Movement, Request};

/// Accounts and the movements applied to them, keyed by (account, reference).
#[derive(Debug, Default, Clone)]
pub struct Ledger {
    accounts: HashMap<String, Account>,
    applied: HashMap<(String, String), Movement>,
}

impl Ledger {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add an account; refused if its id is taken.
    pub fn open(&mut self, account: Account) -> Result<(), LedgerError> {
        if self.accounts.contains_key(&account.id) {
            return Err(LedgerError::AccountExists(account.id));
        }
        self.accounts.insert(account.id.clone(), account);
        Ok(())
    }

    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.get(id)
    }

    /// Apply a request once: a request whose reference was already applied to the account
    /// returns the movement recorded then (and changes nothing); with the same reference but a
    /// different operation it is refused with [`LedgerError::ReferenceConflict`].
    pub fn apply(&mut self, request: &Request) -> Result<Movement, LedgerError> {
        let key = (request.account.clone(), request.reference.clone());
        if let Some(done) = self.applied.get(&key) {
            return replay(done, request);
        }
        let account = self
            .accounts
            .get_mut(&request.account)
            .ok_or_else(|| LedgerError::UnknownAccount(request.account.clone()))?;
        let movement = account.apply(&request.reference, &request.operation, request.at)?;
        self.applied.insert(key, movement.clone());
        Ok(movement)
    }
}

/// The answer to a request whose reference is already in the account's history.
pub fn replay(done: &Movement, request: &Request) -> Result<Movement, LedgerError> {
    if done.operation == request.operation {
        Ok(done.clone())
    } else {
        Err(LedgerError::ReferenceConflict {
            account: request.account.clone(),
            reference: request.reference.clone(),
        })
    }
}
