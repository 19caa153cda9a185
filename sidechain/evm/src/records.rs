//! Small codecs on the hot path of every block: an account's RLP as the store and the tries keep
//! it, the ordered binary Merkle root of transactions and receipts (sidechain/chain/merkle.py says
//! how it hashes), and a list of byte strings (a gossiped batch of transactions).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyInt, PyList};
use revm::primitives::{keccak256, U256};

use crate::rlp::{list_items, parse_item};

fn invalid(what: &str, why: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(format!("{what}: {why}"))
}

/// The items of the one canonical RLP list that `data` is.
fn items_of<'a>(data: &'a [u8], what: &str) -> PyResult<Vec<crate::rlp::Item<'a>>> {
    let (item, rest) = parse_item(data).map_err(|e| invalid(what, e))?;
    if !item.list {
        return Err(invalid(what, "an RLP string, not a list"));
    }
    if !rest.is_empty() {
        return Err(invalid(what, format!("{} bytes after the list", rest.len())));
    }
    list_items(item.payload).map_err(|e| invalid(what, e))
}

/// (nonce, balance, storage root, code hash) of an account's RLP; ValueError if it is not one.
#[pyfunction]
pub(crate) fn decode_account<'py>(py: Python<'py>, data: &[u8]) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>, Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    let items = items_of(data, "account")?;
    if items.len() != 4 || items.iter().any(|item| item.list) {
        return Err(invalid("account", format!("expected 4 byte strings, got {} items", items.len())));
    }
    let (nonce, balance, root, code) = (items[0].payload, items[1].payload, items[2].payload, items[3].payload);
    if nonce.len() > 8 || balance.len() > 32 || root.len() != 32 || code.len() != 32 {
        return Err(invalid("account", "a field of the wrong length"));
    }
    let nonce = U256::from_be_slice(nonce).to::<u64>().into_pyobject(py)?.into_any();
    let balance = U256::from_be_slice(balance);
    let balance = if balance.bit_len() <= 128 {
        balance.to::<u128>().into_pyobject(py)?.into_any()
    } else {
        py.get_type::<PyInt>().getattr("from_bytes")?.call1((PyBytes::new(py, &balance.to_be_bytes::<32>()), "big"))?
    };
    Ok((nonce, balance, PyBytes::new(py, root), PyBytes::new(py, code)))
}

/// The ordered binary Merkle root of `leaves`: keccak256(0x00 || leaf) per leaf, keccak256(0x01 ||
/// left || right) per pair, an odd node promoted unchanged, keccak256(b"") for none.
#[pyfunction]
pub(crate) fn ordered_root<'py>(py: Python<'py>, leaves: Vec<Bound<'py, PyBytes>>) -> Bound<'py, PyBytes> {
    if leaves.is_empty() {
        return PyBytes::new(py, keccak256([]).as_slice());
    }
    let mut buffer = Vec::with_capacity(65);
    let mut level: Vec<[u8; 32]> = leaves.iter().map(|leaf| {
        buffer.clear();
        buffer.push(0x00);
        buffer.extend_from_slice(leaf.as_bytes());
        keccak256(&buffer).0
    }).collect();
    while level.len() > 1 {
        level = level.chunks(2).map(|pair| match pair {
            [left, right] => {
                buffer.clear();
                buffer.push(0x01);
                buffer.extend_from_slice(left);
                buffer.extend_from_slice(right);
                keccak256(&buffer).0
            }
            [odd] => *odd,
            _ => unreachable!("chunks of two"),
        }).collect();
    }
    PyBytes::new(py, &level[0])
}

/// The byte strings of the canonical RLP list `data`, at most `max_items` of them; ValueError if
/// it is anything else.
#[pyfunction]
pub(crate) fn decode_strings<'py>(py: Python<'py>, data: &[u8], max_items: usize) -> PyResult<Bound<'py, PyList>> {
    let items = items_of(data, "list of byte strings")?;
    if items.len() > max_items {
        return Err(invalid("list of byte strings", format!("expected at most {max_items} items, got {}", items.len())));
    }
    if items.iter().any(|item| item.list) {
        return Err(invalid("list of byte strings", "an item is a list"));
    }
    PyList::new(py, items.iter().map(|item| PyBytes::new(py, item.payload)))
}
