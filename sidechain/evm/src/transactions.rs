//! Decoding signed transactions in batches, with the GIL released: the strict RLP parse, the
//! state-free field rules and the sender's recovery (libsecp256k1), for the three types the chain
//! takes (legacy EIP-155, EIP-2930, EIP-1559).
//!
//! This is the fast path of `sidechain.chain.transactions.decode_transaction`: it accepts exactly
//! what that function accepts and gives the same fields. Anything it does not accept comes back as
//! None and the Python decoder, which names the broken rule, decides; so an error message exists
//! in one place only. The per-transaction rules that need no parsing (gas against the intrinsic
//! cost, initcode size, tip under the cap) stay on the Python side too.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};
use revm::precompile::secp256k1::ecrecover;
use revm::primitives::alloy_primitives::B512;
use revm::primitives::{keccak256, B256, U256};

use crate::rlp::{list_items, parse_item, rlp_list, rlp_string, Item};

/// Largest encoded transaction (the Python side's MAX_TX_SIZE).
const MAX_TX_SIZE: usize = 128 * 1024;
/// The curve order n of secp256k1, and n / 2 (EIP-2: s must be at most that).
const SECP256K1_N: U256 = U256::from_be_bytes([
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
]);

struct Decoded {
    tx_type: u8,
    nonce: u64,
    tip: U256,
    cap: U256,
    gas: u64,
    to: Option<[u8; 20]>,
    value: U256,
    data: Vec<u8>,
    access_list: Vec<([u8; 20], Vec<[u8; 32]>)>,
    v: u64,
    r: U256,
    s: U256,
    sender: [u8; 20],
    hash: B256,
}

/// A canonical unsigned integer of at most `max_len` bytes.
fn uint(item: &Item<'_>, max_len: usize) -> Option<U256> {
    let bytes = item.payload;
    if item.list || bytes.len() > max_len || bytes.first() == Some(&0) {
        return None;
    }
    Some(U256::from_be_slice(bytes))
}

fn small(item: &Item<'_>) -> Option<u64> {
    uint(item, 8).map(|value| value.to::<u64>())
}

fn string<'a>(item: &Item<'a>) -> Option<&'a [u8]> {
    (!item.list).then_some(item.payload)
}

fn recipient(item: &Item<'_>) -> Option<Option<[u8; 20]>> {
    match string(item)? {
        [] => Some(None),
        to => Some(Some(to.try_into().ok()?)),
    }
}

fn access_list(item: &Item<'_>) -> Option<Vec<([u8; 20], Vec<[u8; 32]>)>> {
    if !item.list {
        return None;
    }
    let mut out = Vec::new();
    for entry in list_items(item.payload).ok()? {
        let parts = if entry.list { list_items(entry.payload).ok()? } else { return None };
        if parts.len() != 2 || !parts[1].list {
            return None;
        }
        let address: [u8; 20] = string(&parts[0])?.try_into().ok()?;
        let keys = list_items(parts[1].payload).ok()?.iter()
            .map(|key| string(key)?.try_into().ok())
            .collect::<Option<Vec<[u8; 32]>>>()?;
        out.push((address, keys));
    }
    Some(out)
}

/// The sender of a signature over `digest`, after the checks the Python side makes (EIP-2 low s).
fn recover(digest: B256, y_parity: U256, r: U256, s: U256) -> Option<[u8; 20]> {
    if y_parity > U256::from(1) || r.is_zero() || r >= SECP256K1_N || s.is_zero() || s > SECP256K1_N >> 1 {
        return None;
    }
    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(&r.to_be_bytes::<32>());
    signature[32..].copy_from_slice(&s.to_be_bytes::<32>());
    let address = ecrecover(&B512::from(signature), y_parity.to::<u8>(), &digest).ok()?;
    address[12..].try_into().ok()
}

/// The list of `items` re-encoded from their own (canonical) bytes.
fn list_of(items: &[Item<'_>], tail: &[u8]) -> Vec<u8> {
    let mut payload: Vec<u8> = Vec::with_capacity(items.iter().map(|i| i.raw.len()).sum::<usize>() + tail.len());
    for item in items {
        payload.extend_from_slice(item.raw);
    }
    payload.extend_from_slice(tail);
    rlp_list(payload)
}

fn one_list(data: &[u8]) -> Option<Vec<Item<'_>>> {
    let (item, rest) = parse_item(data).ok()?;
    if !item.list || !rest.is_empty() {
        return None;
    }
    list_items(item.payload).ok()
}

fn decode_legacy(raw: &[u8], chain_id: u64) -> Option<Decoded> {
    let items = one_list(raw)?;
    if items.len() != 9 {
        return None;
    }
    let (nonce, price, gas) = (small(&items[0])?, uint(&items[1], 32)?, small(&items[2])?);
    let (to, value, data) = (recipient(&items[3])?, uint(&items[4], 32)?, string(&items[5])?.to_vec());
    let (v, r, s) = (uint(&items[6], 32)?, uint(&items[7], 32)?, uint(&items[8], 32)?);
    let (digest, y_parity) = if v == U256::from(27) || v == U256::from(28) {
        (keccak256(list_of(&items[..6], &[])), v - U256::from(27))
    } else {
        let v64 = u64::try_from(v).ok()?;
        if v64 < 35 || (v64 - 35) / 2 != chain_id {
            return None;
        }
        let mut tail = Vec::with_capacity(11);
        let id = chain_id.to_be_bytes();
        rlp_string(&mut tail, &id[id.iter().take_while(|b| **b == 0).count()..]);
        tail.extend_from_slice(&[0x80, 0x80]);
        (keccak256(list_of(&items[..6], &tail)), U256::from((v64 - 35) % 2))
    };
    let sender = recover(digest, y_parity, r, s)?;
    Some(Decoded { tx_type: 0, nonce, tip: price, cap: price, gas, to, value, data, access_list: Vec::new(),
                   v: v.to::<u64>(), r, s, sender, hash: keccak256(raw) })
}

fn decode_typed(raw: &[u8], chain_id: u64) -> Option<Decoded> {
    let tx_type = raw[0];
    let items = one_list(&raw[1..])?;
    if items.len() != if tx_type == 1 { 11 } else { 12 } {
        return None;
    }
    if uint(&items[0], 32)? != U256::from(chain_id) {
        return None;
    }
    let nonce = small(&items[1])?;
    let (tip, cap, rest) = if tx_type == 1 {
        let price = uint(&items[2], 32)?;
        (price, price, &items[3..])
    } else {
        (uint(&items[2], 32)?, uint(&items[3], 32)?, &items[4..])
    };
    let (gas, to, value, data) = (small(&rest[0])?, recipient(&rest[1])?, uint(&rest[2], 32)?, string(&rest[3])?.to_vec());
    let access_list = access_list(&rest[4])?;
    let (y_parity, r, s) = (uint(&rest[5], 32)?, uint(&rest[6], 32)?, uint(&rest[7], 32)?);
    let mut unsigned = vec![tx_type];
    unsigned.extend(list_of(&items[..items.len() - 3], &[]));
    let sender = recover(keccak256(&unsigned), y_parity, r, s)?;
    Some(Decoded { tx_type, nonce, tip, cap, gas, to, value, data, access_list, v: y_parity.to::<u64>(), r, s, sender,
                   hash: keccak256(raw) })
}

fn decode_one(raw: &[u8], chain_id: u64) -> Option<Decoded> {
    match raw.first()? {
        _ if raw.len() > MAX_TX_SIZE => None,
        0xc0..=0xff => decode_legacy(raw, chain_id),
        1 | 2 => decode_typed(raw, chain_id),
        _ => None,
    }
}

fn int<'py>(py: Python<'py>, from_bytes: &Bound<'py, PyAny>, value: U256) -> PyResult<Bound<'py, PyAny>> {
    if value.bit_len() <= 128 {
        return Ok(value.to::<u128>().into_pyobject(py)?.into_any());
    }
    from_bytes.call1((PyBytes::new(py, &value.to_be_bytes::<32>()), "big"))
}

/// Each of `raws` decoded for `chain_id`: the fields of `Transaction` in its order, up to and
/// including the hash (type, chain id, nonce, tip, fee cap, gas, to, value, data, access list, v,
/// r, s, sender, hash), or None where the Python decoder must look (see the module docstring).
/// Batches of at least this many are decoded without the GIL. A lone transaction (an RPC
/// submission) keeps it: its ~35 us are less than what a thread waits to take the GIL back from
/// a busy one (up to the 5 ms switch interval), which every release risks.
const DETACH_FROM: usize = 8;

#[pyfunction]
pub(crate) fn decode_transactions<'py>(py: Python<'py>, raws: Vec<Bound<'py, PyBytes>>, chain_id: u64) -> PyResult<Bound<'py, PyList>> {
    let decoded: Vec<Option<Decoded>> = if raws.len() < DETACH_FROM {
        raws.iter().map(|raw| decode_one(raw.as_bytes(), chain_id)).collect()
    } else {
        let raws: Vec<Vec<u8>> = raws.iter().map(|raw| raw.as_bytes().to_vec()).collect();
        py.detach(|| raws.iter().map(|raw| decode_one(raw, chain_id)).collect())
    };
    let from_bytes = py.get_type::<pyo3::types::PyInt>().getattr("from_bytes")?;
    let mut out: Vec<Bound<'py, PyAny>> = Vec::with_capacity(decoded.len());
    for tx in decoded {
        let Some(tx) = tx else {
            out.push(py.None().into_bound(py));
            continue;
        };
        let access_list = PyTuple::new(py, tx.access_list.iter().map(|(address, keys)| {
            (PyBytes::new(py, address), PyTuple::new(py, keys.iter().map(|key| PyBytes::new(py, key))).expect("a tuple"))
        }))?;
        let fields: Vec<Bound<'py, PyAny>> = vec![
            tx.tx_type.into_pyobject(py)?.into_any(),
            chain_id.into_pyobject(py)?.into_any(),
            tx.nonce.into_pyobject(py)?.into_any(),
            int(py, &from_bytes, tx.tip)?,
            int(py, &from_bytes, tx.cap)?,
            tx.gas.into_pyobject(py)?.into_any(),
            match &tx.to { Some(to) => PyBytes::new(py, to).into_any(), None => py.None().into_bound(py) },
            int(py, &from_bytes, tx.value)?,
            PyBytes::new(py, &tx.data).into_any(),
            access_list.into_any(),
            tx.v.into_pyobject(py)?.into_any(),
            int(py, &from_bytes, tx.r)?,
            int(py, &from_bytes, tx.s)?,
            PyBytes::new(py, &tx.sender).into_any(),
            PyBytes::new(py, tx.hash.as_slice()).into_any(),
        ];
        out.push(PyTuple::new(py, fields)?.into_any());
    }
    PyList::new(py, out)
}
