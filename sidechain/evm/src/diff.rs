//! The net state diff of a batch: what the Python side commits.

use std::collections::BTreeMap;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};
use revm::primitives::{Address, Bytes, B256, KECCAK_EMPTY, U256};
use revm::state::EvmState;

/// What a batch did to one account: its final fields, the code it got, the storage it wrote.
#[derive(Default)]
struct AccountDiff {
    nonce: u64,
    balance: U256,
    code_hash: B256,
    code: Option<Bytes>,
    /// The account was created (or destroyed) in the batch: its storage before the batch is gone.
    storage_reset: bool,
    storage: BTreeMap<U256, U256>,
}

#[derive(Default)]
pub(crate) struct BatchDiff {
    accounts: BTreeMap<Address, AccountDiff>,
}

impl BatchDiff {
    /// Fold in one transaction's changes, before they are committed to the cache.
    pub(crate) fn absorb(&mut self, state: &EvmState) {
        for (addr, account) in state.iter() {
            if !account.is_touched() {
                continue;
            }
            let diff = self.accounts.entry(*addr).or_default();
            if account.is_selfdestructed() {
                *diff = AccountDiff { code_hash: KECCAK_EMPTY, storage_reset: true, ..AccountDiff::default() };
                continue;
            }
            if account.is_created() {
                diff.storage_reset = true;
                diff.storage.clear();
                diff.code = account.info.code.as_ref().map(|c| c.original_bytes()).filter(|c| !c.is_empty());
            }
            diff.nonce = account.info.nonce;
            diff.balance = account.info.balance;
            diff.code_hash = account.info.code_hash;
            for (key, slot) in account.changed_storage_slots() {
                diff.storage.insert(*key, slot.present_value);
            }
        }
    }

    pub(crate) fn to_python<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for (addr, diff) in &self.accounts {
            let storage = PyList::empty(py);
            for (key, value) in &diff.storage {
                storage.append((PyBytes::new(py, &key.to_be_bytes::<32>()), PyBytes::new(py, &minimal(value))))?;
            }
            let code = diff.code.as_ref().map(|c| PyBytes::new(py, c));
            list.append((
                PyBytes::new(py, addr.as_slice()),
                diff.nonce,
                PyBytes::new(py, &diff.balance.to_be_bytes::<32>()),
                PyBytes::new(py, diff.code_hash.as_slice()),
                code,
                diff.storage_reset,
                storage,
            ))?;
        }
        Ok(list)
    }
}

/// A storage word as the state keeps it: big-endian without leading zeros (zero is empty).
fn minimal(value: &U256) -> Vec<u8> {
    let bytes = value.to_be_bytes::<32>();
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(32);
    bytes[start..].to_vec()
}

