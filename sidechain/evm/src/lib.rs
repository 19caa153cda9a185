//! The sidechain's compiled core: the EVM, revm (Cancun) behind a binding that keeps the state on
//! the Python side, the state's Merkle-Patricia trie (`trie.rs`) and batch transaction decoding
//! with sender recovery (`transactions.rs`), and the small codecs every block leans on (`records.rs`).
//!
//! revm reads accounts, code, storage and block hashes through four callbacks on a Python object
//! (`basic`, `code`, `storage`, `block_hash`); a per-call cache in front of them (revm's `CacheDB`)
//! means each account or slot crosses once per call. One call runs a batch of transactions in
//! order, each seeing the writes of the ones before it, and returns each transaction's outcome and
//! the batch's net state diff, which the Python side hashes into its tries and commits.
//!
//! Nothing crosses the boundary as a Rust panic: every entry point catches unwinding and raises
//! `EvmError`, and an exception raised by a callback is re-raised as it was.

mod convert;
mod diff;
mod records;
mod rlp;
mod state;
mod transactions;
mod trie;
mod trie_nodes;
mod trie_walk;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use alloy_rpc_types_trace::geth::CallConfig;
use revm::context::result::{EVMError, ExecutionResult, HaltReason, OutOfGasError};
use revm::context::transaction::AccessList;
use revm::context::{BlockEnv, CfgEnv, Context, ContextTr, Journal, TxEnv};
use revm::database::CacheDB;
use revm::database_interface::DatabaseCommit;
use revm::interpreter::{InstructionResult, Interpreter, InterpreterTypes};
use revm::primitives::hardfork::SpecId;
use revm::handler::SYSTEM_ADDRESS;
use revm::primitives::{Address, Bytes};
use revm::{ExecuteEvm, InspectEvm, Inspector, MainBuilder, MainContext, SystemCallEvm};
use revm_inspectors::access_list::AccessListInspector;
use revm_inspectors::tracing::{TracingInspector, TracingInspectorConfig};

use convert::{block_env, invalid_row, ok_row, tx_env, BlockArgs, TxArgs};
use diff::BatchDiff;
use state::{CallbackFailed, PyState};

create_exception!(_revm, EvmError, PyException, "The EVM binding failed (a bug or a broken state database, never a contract's doing).");

/// The one fork the chain runs.
pub(crate) const SPEC: SpecId = SpecId::CANCUN;

// --- the entry point ---------------------------------------------------------------------------

/// Run `txs` in order against `state` in the block `block`; returns (outcomes, diff).
///
/// Each outcome is ("ok", status, gas used, output, logs, created, halt reason) for an executed
/// transaction or ("invalid", kind, a, b, message) for one that could not be included, which
/// changes nothing. `gas_limit` is what the block has left: transactions draw from it in order.
/// `call=True` is eth_call's mode: no nonce check, no base fee floor, no block gas limit, and no
/// diff kept (each transaction still sees the ones before it).
#[pyfunction]
#[pyo3(signature = (state, chain_id, block, txs, *, call = false))]
fn execute<'py>(py: Python<'py>, state: Bound<'py, PyAny>, chain_id: u64, block: BlockArgs, txs: Vec<TxArgs>, call: bool)
    -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
    catching(|| run(py, state, chain_id, block, txs, call))
}

/// Trace one transaction: `tracer` is "callTracer" (geth's call frames as JSON; `config` its
/// tracerConfig JSON) or "accessList" (the access list eth_createAccessList answers, found by
/// running until the list stops growing, as go-ethereum does). Returns (outcome, result) with the
/// outcome as in `execute`; a transaction that could not run gives ("invalid", ...) and None.
#[pyfunction]
#[pyo3(signature = (state, chain_id, block, tx, tracer, config = "{}", *, call = false))]
fn trace<'py>(py: Python<'py>, state: Bound<'py, PyAny>, chain_id: u64, block: BlockArgs, tx: TxArgs, tracer: &str, config: &str,
              call: bool) -> PyResult<(Bound<'py, PyTuple>, Bound<'py, PyAny>)> {
    catching(|| {
        let env = block_env(&block)?;
        let tx = tx_env(tx)?;
        match tracer {
            "callTracer" => {
                let options: CallConfig = serde_json::from_str(config)
                    .map_err(|e| EvmError::new_err(format!("callTracer config: {e}")))?;
                let inspector = TracingInspector::new(TracingInspectorConfig::from_geth_call_config(&options));
                let mut evm = context(PyState::new(state), chain_id, env, call).build_mainnet_with_inspector(inspector);
                match evm.inspect_tx(tx) {
                    Ok(done) => {
                        let frame = std::mem::replace(&mut evm.inspector, TracingInspector::new(TracingInspectorConfig::none()))
                            .into_geth_builder()
                            .geth_call_traces(options, done.result.tx_gas_used());
                        let json = serde_json::to_string(&frame).map_err(|e| EvmError::new_err(e.to_string()))?;
                        Ok((ok_row(py, &done.result)?, json.into_pyobject(py)?.into_any()))
                    }
                    Err(EVMError::Transaction(err)) => Ok((invalid_row(py, &err)?, py.None().into_bound(py))),
                    Err(other) => Err(failure(other, evm.ctx.db_mut())),
                }
            }
            "accessList" => {
                let mut list = tx.access_list.clone();
                let mut last = None;
                let ctx_state = state;
                for _ in 0..16 {
                    let inspector = AccessListInspector::new(list.clone());
                    let mut attempt = tx.clone();
                    attempt.access_list = list.clone();
                    attempt.tx_type = attempt.tx_type.max(1); // a legacy transaction carries no access list
                    let mut evm = context(PyState::new(ctx_state.clone()), chain_id, env.clone(), call).build_mainnet_with_inspector(inspector);
                    match evm.inspect_tx(attempt) {
                        Ok(done) => {
                            let found = std::mem::replace(&mut evm.inspector, AccessListInspector::new(AccessList::default()))
                                .into_access_list();
                            let stable = found == list;
                            last = Some(done.result);
                            list = found;
                            if stable {
                                break;
                            }
                        }
                        Err(EVMError::Transaction(err)) => return Ok((invalid_row(py, &err)?, py.None().into_bound(py))),
                        Err(other) => return Err(failure(other, evm.ctx.db_mut())),
                    }
                }
                let items = PyList::empty(py);
                for item in list.0.iter() {
                    let keys: Vec<Bound<'py, PyBytes>> = item.storage_keys.iter().map(|k| PyBytes::new(py, k.as_slice())).collect();
                    items.append((PyBytes::new(py, item.address.as_slice()), PyList::new(py, keys)?))?;
                }
                let result = last.ok_or_else(|| EvmError::new_err("access list: no run"))?;
                Ok((ok_row(py, &result)?, items.into_any()))
            }
            other => Err(EvmError::new_err(format!("unknown tracer {other:?}: expected \"callTracer\" or \"accessList\""))),
        }
    })
}

/// A system call, as the node makes one after a block's transactions: `data` sent to `target` by
/// the system address 0xff..fe, with no fee, no nonce and 30M gas (EIP-4788's rules). Returns
/// (outcome, diff) as `execute` does for a batch of one.
#[pyfunction]
fn system_call<'py>(py: Python<'py>, state: Bound<'py, PyAny>, chain_id: u64, block: BlockArgs, target: Vec<u8>, data: Vec<u8>)
    -> PyResult<(Bound<'py, PyTuple>, Bound<'py, PyList>)> {
    catching(|| {
        if target.len() != 20 {
            return Err(EvmError::new_err(format!("system call target: expected 20 bytes, got {}", target.len())));
        }
        let env = block_env(&block)?;
        let mut evm = context(PyState::new(state), chain_id, env, false).build_mainnet();
        match evm.system_call_with_caller(SYSTEM_ADDRESS, Address::from_slice(&target), Bytes::from(data)) {
            Ok(done) => {
                let mut diff = BatchDiff::default();
                diff.absorb(&done.state);
                Ok((ok_row(py, &done.result)?, diff.to_python(py)?))
            }
            Err(EVMError::Transaction(err)) => Err(EvmError::new_err(format!("the system call was refused: {err}"))),
            Err(other) => Err(failure(other, evm.ctx.db_mut())),
        }
    })
}

/// Stops a call that runs past its deadline: every frame still running halts at its next step.
/// The clock is read every 1,024 steps, so the check costs next to nothing.
struct Deadline {
    until: Instant,
    steps: u32,
    passed: bool,
}

impl<CTX, INTR: InterpreterTypes> Inspector<CTX, INTR> for Deadline {
    fn step(&mut self, interp: &mut Interpreter<INTR>, _context: &mut CTX) {
        if !self.passed {
            self.steps = self.steps.wrapping_add(1);
            if self.steps % 1024 != 0 || Instant::now() < self.until {
                return;
            }
            self.passed = true;
        }
        interp.halt(InstructionResult::OutOfGas);
    }
}

/// eth_call's run of one message (call mode) that may take at most `deadline_ms`: the outcome as in
/// `execute`, with the halt reason "Timeout" if the deadline stopped it.
#[pyfunction]
fn simulate<'py>(py: Python<'py>, state: Bound<'py, PyAny>, chain_id: u64, block: BlockArgs, tx: TxArgs, deadline_ms: u64)
    -> PyResult<Bound<'py, PyTuple>> {
    catching(|| {
        let env = block_env(&block)?;
        let tx = tx_env(tx)?;
        let db_state = PyState::new(state);
        // The run holds no GIL: however long a call computes, the node's event loop (and its
        // consensus) goes on; each state callback takes the GIL for its own read.
        let (done, passed) = py.detach(move || {
            let deadline = Deadline { until: Instant::now() + Duration::from_millis(deadline_ms), steps: 0, passed: false };
            let mut evm = context(db_state, chain_id, env, true).build_mainnet_with_inspector(deadline);
            let done = match evm.inspect_tx(tx) {
                Ok(done) => Ok(done.result),
                Err(EVMError::Transaction(err)) => Err(Ok(err)),
                Err(other) => Err(Err(failure(other, evm.ctx.db_mut()))),
            };
            (done, evm.inspector.passed)
        });
        match done {
            Ok(result) if passed => {
                let timed_out = ExecutionResult::Halt { reason: HaltReason::OutOfGas(OutOfGasError::Basic), gas: *result.gas(), logs: vec![] };
                let row = ok_row(py, &timed_out)?;
                let mut items: Vec<Bound<'py, PyAny>> = row.iter().collect();
                items[6] = "Timeout".into_pyobject(py)?.into_any();
                PyTuple::new(py, items)
            }
            Ok(result) => ok_row(py, &result),
            Err(Ok(err)) => invalid_row(py, &err),
            Err(Err(err)) => Err(err),
        }
    })
}

type EvmContext = Context<BlockEnv, TxEnv, CfgEnv, CacheDB<PyState>, Journal<CacheDB<PyState>>, ()>;

/// The context every entry point runs in: the block, Cancun's rules, and the state behind a cache.
fn context(state: PyState, chain_id: u64, env: BlockEnv, call: bool) -> EvmContext {
    let mut cfg = CfgEnv::new_with_spec(SPEC);
    cfg.chain_id = chain_id;
    if call {
        cfg.disable_nonce_check = true;
        cfg.disable_base_fee = true;
        cfg.disable_block_gas_limit = true;
    }
    let db = CacheDB::new(state);
    Context::mainnet().with_db(db).with_cfg(cfg).with_block(env)
}

/// A database failure as the Python exception that caused it, anything else as EvmError.
fn failure(err: EVMError<CallbackFailed>, db: &mut CacheDB<PyState>) -> PyErr {
    match err {
        EVMError::Database(failed) => db.db.take_error().unwrap_or_else(|| EvmError::new_err(failed.to_string())),
        other => EvmError::new_err(format!("the EVM failed: {other}")),
    }
}

pub(crate) fn catching<T>(body: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(result) => result,
        Err(panic) => {
            let message = panic.downcast_ref::<String>().cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Err(EvmError::new_err(format!("the compiled core (EVM or trie) panicked: {message}")))
        }
    }
}

fn run<'py>(py: Python<'py>, state: Bound<'py, PyAny>, chain_id: u64, block: BlockArgs, txs: Vec<TxArgs>, call: bool)
    -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
    let env = block_env(&block)?;
    let mut gas_left = env.gas_limit;
    let mut evm = context(PyState::new(state), chain_id, env, call).build_mainnet();
    let outcomes = PyList::empty(py);
    let mut diff = BatchDiff::default();
    for args in txs {
        let tx = tx_env(args)?;
        if !call && tx.gas_limit > gas_left {
            let message = format!("gas limit reached: transaction gas {}, block gas left {gas_left}", tx.gas_limit);
            outcomes.append(("invalid", "gas_limit_reached", tx.gas_limit.to_string(), gas_left.to_string(), message))?;
            continue;
        }
        match evm.transact(tx) {
            Ok(done) => {
                gas_left -= done.result.tx_gas_used().min(gas_left);
                if !call {
                    diff.absorb(&done.state);
                }
                outcomes.append(ok_row(py, &done.result)?)?;
                evm.ctx.db_mut().commit(done.state);
            }
            Err(EVMError::Transaction(err)) => outcomes.append(invalid_row(py, &err)?)?,
            Err(other) => return Err(failure(other, evm.ctx.db_mut())),
        }
    }
    Ok((outcomes, diff.to_python(py)?))
}

#[pymodule]
fn _revm(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(execute, m)?)?;
    m.add_function(wrap_pyfunction!(trace, m)?)?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    m.add_function(wrap_pyfunction!(system_call, m)?)?;
    m.add_class::<trie::MerkleTrie>()?;
    m.add_function(wrap_pyfunction!(transactions::decode_transactions, m)?)?;
    m.add_function(wrap_pyfunction!(records::decode_account, m)?)?;
    m.add_function(wrap_pyfunction!(records::ordered_root, m)?)?;
    m.add_function(wrap_pyfunction!(records::decode_strings, m)?)?;
    m.add_function(wrap_pyfunction!(records::encode_account, m)?)?;
    m.add_function(wrap_pyfunction!(records::encode_receipt, m)?)?;
    m.add_function(wrap_pyfunction!(records::encode_stored_receipts, m)?)?;
    m.add_function(wrap_pyfunction!(records::receipts_root, m)?)?;
    m.add_function(wrap_pyfunction!(records::logs_bloom, m)?)?;
    m.add("EvmError", m.py().get_type::<EvmError>())?;
    m.add("SPEC", "cancun")?;
    m.add("REVM_VERSION", "43")?;
    Ok(())
}
