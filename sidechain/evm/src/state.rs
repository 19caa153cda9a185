//! The node's state as revm reads it: four callbacks on a Python object, each taking the GIL for
//! itself, so a run may release it between them.

use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};
use revm::database_interface::{DBErrorMarker, DatabaseRef};
use revm::primitives::{Address, Bytes, StorageKey, StorageValue, B256, KECCAK_EMPTY, U256};
use revm::state::{AccountInfo, Bytecode};

use crate::EvmError;

/// A callback failed; the Python exception waits in `PyState::error` to be re-raised.
#[derive(Debug)]
pub(crate) struct CallbackFailed(pub(crate) String);

impl std::fmt::Display for CallbackFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "state callback failed: {}", self.0)
    }
}

impl std::error::Error for CallbackFailed {}
impl DBErrorMarker for CallbackFailed {}

/// The Python state object: `basic(address) -> (nonce, balance32, code_hash, code | None) | None`,
/// `code(code_hash) -> bytes`, `storage(address, key32) -> bytes` (big-endian, at most 32 bytes;
/// empty for zero) and `block_hash(number) -> bytes32`. Each callback takes the GIL for itself, so
/// a run may release it between callbacks (eth_call does: see `simulate`).
pub(crate) struct PyState {
    state: Py<PyAny>,
    error: Mutex<Option<PyErr>>,
}

impl PyState {
    pub(crate) fn new(state: Bound<'_, PyAny>) -> Self {
        PyState { state: state.unbind(), error: Mutex::new(None) }
    }

    fn fail(&self, err: PyErr) -> CallbackFailed {
        let message = err.to_string();
        if let Ok(mut slot) = self.error.lock() {
            slot.get_or_insert(err);
        }
        CallbackFailed(message)
    }

    /// The Python exception a callback raised, if one did.
    pub(crate) fn take_error(&self) -> Option<PyErr> {
        self.error.lock().ok().and_then(|mut slot| slot.take())
    }

    /// Call method `name` with `args` and hand its answer to `read`, under the GIL.
    fn call<T>(&self, name: &str, args: impl for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, PyTuple>>,
               read: impl for<'py> FnOnce(&Self, &Bound<'py, PyAny>) -> Result<T, CallbackFailed>) -> Result<T, CallbackFailed> {
        Python::attach(|py| {
            let args = args(py).map_err(|e| self.fail(e))?;
            let answer = self.state.bind(py).call_method1(name, args).map_err(|e| self.fail(e))?;
            read(self, &answer)
        })
    }

    fn bytes_of(&self, value: &Bound<'_, PyAny>, what: &str, max_len: usize) -> Result<Vec<u8>, CallbackFailed> {
        let bytes = value.cast::<PyBytes>().map_err(|e| self.fail(PyErr::from(e)))?;
        let raw = bytes.as_bytes();
        if raw.len() > max_len {
            return Err(self.fail(EvmError::new_err(format!("{what}: expected at most {max_len} bytes, got {}", raw.len()))));
        }
        Ok(raw.to_vec())
    }
}

fn bytes_arg<'py>(py: Python<'py>, items: &[&[u8]]) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, items.iter().map(|b| PyBytes::new(py, b)))
}

impl DatabaseRef for PyState {
    type Error = CallbackFailed;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        self.call("basic", |py| bytes_arg(py, &[address.as_slice()]), |me, answer| {
            if answer.is_none() {
                return Ok(None);
            }
            let (nonce, balance, code_hash, code): (u64, Bound<'_, PyAny>, Bound<'_, PyAny>, Bound<'_, PyAny>) =
                answer.extract().map_err(|e| me.fail(e))?;
            let balance = U256::from_be_slice(&me.bytes_of(&balance, "balance", 32)?);
            let code_hash_bytes = me.bytes_of(&code_hash, "code hash", 32)?;
            if code_hash_bytes.len() != 32 {
                return Err(me.fail(EvmError::new_err(format!("code hash: expected 32 bytes, got {}", code_hash_bytes.len()))));
            }
            let code_hash = B256::from_slice(&code_hash_bytes);
            let mut info = AccountInfo::default().with_code_hash(code_hash);
            info.nonce = nonce;
            info.balance = balance;
            if code_hash == KECCAK_EMPTY {
                info = info.with_code_and_hash(Bytecode::default(), KECCAK_EMPTY);
            } else if !code.is_none() {
                let raw = me.bytes_of(&code, "code", usize::MAX)?;
                info = info.with_code_and_hash(Bytecode::new_raw(Bytes::from(raw)), code_hash);
            }
            Ok(Some(info))
        })
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        if code_hash == KECCAK_EMPTY {
            return Ok(Bytecode::default());
        }
        self.call("code", |py| bytes_arg(py, &[code_hash.as_slice()]),
                  |me, answer| Ok(Bytecode::new_raw(Bytes::from(me.bytes_of(answer, "code", usize::MAX)?))))
    }

    fn storage_ref(&self, address: Address, index: StorageKey) -> Result<StorageValue, Self::Error> {
        let key = index.to_be_bytes::<32>();
        self.call("storage", |py| bytes_arg(py, &[address.as_slice(), &key]),
                  |me, answer| Ok(U256::from_be_slice(&me.bytes_of(answer, "storage value", 32)?)))
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Self::Error> {
        self.call("block_hash", |py| PyTuple::new(py, [number]), |me, answer| {
            let raw = me.bytes_of(answer, "block hash", 32)?;
            Ok(if raw.len() == 32 { B256::from_slice(&raw) } else { B256::ZERO })
        })
    }
}

