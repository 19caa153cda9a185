//! What crosses the boundary: the block and transactions coming in, the outcomes going out.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};
use revm::context::result::{ExecutionResult, InvalidTransaction, Output};
use revm::context::transaction::{AccessList, AccessListItem};
use revm::context::{BlockEnv, TxEnv};
use revm::context_interface::block::BlobExcessGasAndPrice;
use revm::primitives::{Address, Bytes, TxKind, B256, U256};

use crate::{EvmError, SPEC};

/// The block a batch runs in: (number, timestamp, beneficiary, base fee, gas limit, prevrandao).
#[derive(FromPyObject)]
pub(crate) struct BlockArgs(u64, u64, Vec<u8>, u64, u64, Vec<u8>);

/// One transaction: (type, caller, gas limit, gas price or max fee, priority fee | None,
/// to | None, value32, data, nonce, chain id | None, access list [(address, [key32])]).
#[derive(FromPyObject)]
pub(crate) struct TxArgs(u8, Vec<u8>, u64, u128, Option<u128>, Option<Vec<u8>>, Vec<u8>, Vec<u8>, u64, Option<u64>, Vec<(Vec<u8>, Vec<Vec<u8>>)>);

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

pub(crate) fn block_env(args: &BlockArgs) -> PyResult<BlockEnv> {
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

pub(crate) fn tx_env(args: TxArgs) -> PyResult<TxEnv> {
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

pub(crate) fn ok_row<'py>(py: Python<'py>, result: &ExecutionResult) -> PyResult<Bound<'py, PyTuple>> {
    let row = outcome(py, result)?;
    let mut items: Vec<Bound<'py, PyAny>> = vec!["ok".into_pyobject(py)?.into_any()];
    items.extend(row.iter());
    PyTuple::new(py, items)
}

pub(crate) fn invalid_row<'py>(py: Python<'py>, err: &InvalidTransaction) -> PyResult<Bound<'py, PyTuple>> {
    let row = invalid(py, err)?;
    let mut items: Vec<Bound<'py, PyAny>> = vec!["invalid".into_pyobject(py)?.into_any()];
    items.extend(row.iter());
    PyTuple::new(py, items)
}

