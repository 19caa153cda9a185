//! The sidechain's EVM: revm (Cancun) behind a binding that keeps the state on the Python side.
//!
//! revm reads accounts, code, storage and block hashes through four callbacks on a Python object
//! (`basic`, `code`, `storage`, `block_hash`); a per-call cache in front of them (revm's `CacheDB`)
//! means each account or slot crosses once per call. One call runs a batch of transactions in
//! order, each seeing the writes of the ones before it, and returns each transaction's outcome and
//! the batch's net state diff, which the Python side hashes into its tries and commits.
//!
//! Nothing crosses the boundary as a Rust panic: every entry point catches unwinding and raises
//! `EvmError`, and an exception raised by a callback is re-raised as it was.

use std::sync::Mutex;
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use revm::context::result::{EVMError, ExecutionResult, HaltReason, InvalidTransaction, OutOfGasError, Output};
use revm::context::transaction::{AccessList, AccessListItem};
use revm::context::{BlockEnv, CfgEnv, Context, ContextTr, Journal, TxEnv};
use revm::context_interface::block::BlobExcessGasAndPrice;
use revm::database::CacheDB;
use revm::database_interface::{DBErrorMarker, DatabaseCommit, DatabaseRef};
use revm::primitives::{hardfork::SpecId, Address, Bytes, StorageKey, StorageValue, TxKind, B256, KECCAK_EMPTY, U256};
use revm::state::{AccountInfo, Bytecode, EvmState};
use revm::interpreter::{InstructionResult, Interpreter, InterpreterTypes};
use revm::{ExecuteEvm, InspectEvm, Inspector, MainBuilder, MainContext};
use revm_inspectors::access_list::AccessListInspector;
use revm_inspectors::tracing::{TracingInspector, TracingInspectorConfig};
use alloy_rpc_types_trace::geth::CallConfig;

create_exception!(_revm, EvmError, PyException, "The EVM binding failed (a bug or a broken state database, never a contract's doing).");

/// The one fork the chain runs.
const SPEC: SpecId = SpecId::CANCUN;

// --- the state, read through Python ------------------------------------------------------------

/// A callback failed; the Python exception waits in `PyState::error` to be re-raised.
#[derive(Debug)]
struct CallbackFailed(String);

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
struct PyState {
    state: Py<PyAny>,
    error: Mutex<Option<PyErr>>,
}

impl PyState {
    fn new(state: Bound<'_, PyAny>) -> Self {
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
    fn take_error(&self) -> Option<PyErr> {
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

// --- inputs ------------------------------------------------------------------------------------

/// The block a batch runs in: (number, timestamp, beneficiary, base fee, gas limit, prevrandao).
#[derive(FromPyObject)]
struct BlockArgs(u64, u64, Vec<u8>, u64, u64, Vec<u8>);

/// One transaction: (type, caller, gas limit, gas price or max fee, priority fee | None,
/// to | None, value32, data, nonce, chain id | None, access list [(address, [key32])]).
#[derive(FromPyObject)]
struct TxArgs(u8, Vec<u8>, u64, u128, Option<u128>, Option<Vec<u8>>, Vec<u8>, Vec<u8>, u64, Option<u64>, Vec<(Vec<u8>, Vec<Vec<u8>>)>);

fn address(raw: &[u8], what: &str) -> PyResult<Address> {
    if raw.len() != 20 {
        return Err(EvmError::new_err(format!("{what}: expected 20 bytes, got {}", raw.len())));
    }
    Ok(Address::from_slice(raw))
}

fn word(raw: &[u8], what: &str) -> PyResult<B256> {
    if raw.len() != 32 {
        return Err(EvmError::new_err(format!("{what}: expected 32 bytes, got {}", raw.len())));
    }
    Ok(B256::from_slice(raw))
}

fn block_env(args: &BlockArgs) -> PyResult<BlockEnv> {
    let mut env = BlockEnv::default();
    env.number = U256::from(args.0);
    env.timestamp = U256::from(args.1);
    env.beneficiary = address(&args.2, "beneficiary")?;
    env.basefee = args.3;
    env.gas_limit = args.4;
    env.difficulty = U256::ZERO;
    env.prevrandao = Some(word(&args.5, "prevrandao")?);
    env.blob_excess_gas_and_price = Some(BlobExcessGasAndPrice::new_with_spec(0, SPEC));
    Ok(env)
}

fn tx_env(args: TxArgs) -> PyResult<TxEnv> {
    let TxArgs(tx_type, caller, gas_limit, gas_price, priority_fee, to, value, data, nonce, chain_id, access_list) = args;
    if value.len() > 32 {
        return Err(EvmError::new_err(format!("value: expected at most 32 bytes, got {}", value.len())));
    }
    let mut items = Vec::with_capacity(access_list.len());
    for (item_address, keys) in access_list {
        let storage_keys = keys.iter().map(|k| word(k, "access list key")).collect::<PyResult<Vec<_>>>()?;
        items.push(AccessListItem { address: address(&item_address, "access list address")?, storage_keys });
    }
    let mut tx = TxEnv::default();
    tx.tx_type = tx_type;
    tx.caller = address(&caller, "caller")?;
    tx.gas_limit = gas_limit;
    tx.gas_price = gas_price;
    tx.gas_priority_fee = priority_fee;
    tx.kind = match to {
        Some(raw) => TxKind::Call(address(&raw, "to")?),
        None => TxKind::Create,
    };
    tx.value = U256::from_be_slice(&value);
    tx.data = Bytes::from(data);
    tx.nonce = nonce;
    tx.chain_id = chain_id;
    tx.access_list = AccessList(items);
    Ok(tx)
}

// --- the state diff of a batch ------------------------------------------------------------------

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
struct BatchDiff {
    accounts: BTreeMap<Address, AccountDiff>,
}

impl BatchDiff {
    /// Fold in one transaction's changes, before they are committed to the cache.
    fn absorb(&mut self, state: &EvmState) {
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

    fn to_python<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
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

// --- outcomes ----------------------------------------------------------------------------------

/// A transaction that cannot be included: ("invalid", kind, message, detail...).
fn invalid<'py>(py: Python<'py>, err: &InvalidTransaction) -> PyResult<Bound<'py, PyTuple>> {
    let (kind, a, b): (&str, String, String) = match err {
        InvalidTransaction::NonceTooLow { tx, state } => ("nonce_too_low", tx.to_string(), state.to_string()),
        InvalidTransaction::NonceTooHigh { tx, state } => ("nonce_too_high", tx.to_string(), state.to_string()),
        InvalidTransaction::LackOfFundForMaxFee { fee, balance } => ("insufficient_funds", fee.to_string(), balance.to_string()),
        InvalidTransaction::GasPriceLessThanBasefee => ("fee_cap_too_low", String::new(), String::new()),
        InvalidTransaction::PriorityFeeGreaterThanMaxFee => ("tip_above_fee_cap", String::new(), String::new()),
        InvalidTransaction::CallerGasLimitMoreThanBlock => ("gas_limit_reached", String::new(), String::new()),
        InvalidTransaction::CallGasCostMoreThanGasLimit { initial_gas, gas_limit } => {
            ("intrinsic_gas_too_low", initial_gas.to_string(), gas_limit.to_string())
        }
        InvalidTransaction::GasFloorMoreThanGasLimit { gas_floor, gas_limit } => {
            ("intrinsic_gas_too_low", gas_floor.to_string(), gas_limit.to_string())
        }
        InvalidTransaction::RejectCallerWithCode => ("sender_not_eoa", String::new(), String::new()),
        InvalidTransaction::CreateInitCodeSizeLimit => ("initcode_too_large", String::new(), String::new()),
        InvalidTransaction::InvalidChainId | InvalidTransaction::MissingChainId => ("invalid_chain_id", String::new(), String::new()),
        InvalidTransaction::NonceOverflowInTransaction => ("nonce_max", String::new(), String::new()),
        InvalidTransaction::OverflowPaymentInTransaction => ("insufficient_funds", String::new(), String::new()),
        other => ("other", other.to_string(), String::new()),
    };
    Ok(PyTuple::new(py, [kind.into_pyobject(py)?.into_any(), a.into_pyobject(py)?.into_any(), b.into_pyobject(py)?.into_any(),
                         err.to_string().into_pyobject(py)?.into_any()])?)
}

/// An executed transaction: (status, gas used, output, logs, created address | None, halt reason | None).
fn outcome<'py>(py: Python<'py>, result: &ExecutionResult) -> PyResult<Bound<'py, PyTuple>> {
    let logs = PyList::empty(py);
    for log in result.logs() {
        let topics: Vec<Bound<'py, PyBytes>> = log.data.topics().iter().map(|t| PyBytes::new(py, t.as_slice())).collect();
        logs.append((PyBytes::new(py, log.address.as_slice()), PyList::new(py, topics)?, PyBytes::new(py, &log.data.data)))?;
    }
    let (status, output, created, halt): (u8, Bytes, Option<Address>, Option<String>) = match result {
        ExecutionResult::Success { output: Output::Call(data), .. } => (1, data.clone(), None, None),
        ExecutionResult::Success { output: Output::Create(data, created), .. } => (1, data.clone(), *created, None),
        ExecutionResult::Revert { output, .. } => (0, output.clone(), None, None),
        ExecutionResult::Halt { reason, .. } => (0, Bytes::new(), None, Some(format!("{reason:?}"))),
    };
    let created = created.map(|a| PyBytes::new(py, a.as_slice()));
    Ok(PyTuple::new(py, [
        status.into_pyobject(py)?.into_any(),
        result.tx_gas_used().into_pyobject(py)?.into_any(),
        PyBytes::new(py, &output).into_any(),
        logs.into_any(),
        created.into_pyobject(py)?.into_any(),
        halt.into_pyobject(py)?.into_any(),
    ])?)
}

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

fn ok_row<'py>(py: Python<'py>, result: &ExecutionResult) -> PyResult<Bound<'py, PyTuple>> {
    let row = outcome(py, result)?;
    let mut items: Vec<Bound<'py, PyAny>> = vec!["ok".into_pyobject(py)?.into_any()];
    items.extend(row.iter());
    PyTuple::new(py, items)
}

fn invalid_row<'py>(py: Python<'py>, err: &InvalidTransaction) -> PyResult<Bound<'py, PyTuple>> {
    let row = invalid(py, err)?;
    let mut items: Vec<Bound<'py, PyAny>> = vec!["invalid".into_pyobject(py)?.into_any()];
    items.extend(row.iter());
    PyTuple::new(py, items)
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

fn catching<T>(body: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(result) => result,
        Err(panic) => {
            let message = panic.downcast_ref::<String>().cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Err(EvmError::new_err(format!("the EVM panicked: {message}")))
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
    m.add("EvmError", m.py().get_type::<EvmError>())?;
    m.add("SPEC", "cancun")?;
    m.add("REVM_VERSION", "43")?;
    Ok(())
}
