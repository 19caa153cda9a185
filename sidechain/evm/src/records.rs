//! Small codecs on the hot path of every block: an account's RLP as the store and the tries keep
//! it, the ordered binary Merkle root of transactions and receipts (sidechain/chain/merkle.py says
//! how it hashes), and a list of byte strings (a gossiped batch of transactions).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyInt, PyList};
use revm::primitives::{keccak256, U256};

use pyo3::intern;

use crate::rlp::{list_items, minimal_be, parse_item, rlp_list, rlp_string};

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
    PyBytes::new(py, &merkle_root(leaves.iter().map(|leaf| leaf.as_bytes())))
}

fn merkle_root<L: AsRef<[u8]>>(leaves: impl ExactSizeIterator<Item = L>) -> [u8; 32] {
    if leaves.len() == 0 {
        return keccak256([]).0;
    }
    let mut buffer = Vec::with_capacity(65);
    let mut level: Vec<[u8; 32]> = leaves.map(|leaf| {
        buffer.clear();
        buffer.push(0x00);
        buffer.extend_from_slice(leaf.as_ref());
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
    level[0]
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

// --- encoders: an account, a receipt, a block's receipts -----------------------------------------

/// RLP's canonical integer (big-endian, no leading zeros) of a non-negative Python int below 2**256.
fn uint_of(value: &Bound<'_, PyInt>, what: &str) -> PyResult<Vec<u8>> {
    let word: [u8; 32] = match value.extract::<u128>() {
        Ok(small) => U256::from(small).to_be_bytes::<32>(),
        Err(_) => {
            let big: Vec<u8> = value.call_method1("to_bytes", (32, "big"))
                .map_err(|_| invalid(what, "expected an integer in 0..2**256"))?.extract()?;
            big.try_into().map_err(|_| invalid(what, "expected 32 bytes"))?
        }
    };
    Ok(minimal_be(&word).to_vec())
}

fn uint_u64(value: u64) -> Vec<u8> {
    minimal_be(&value.to_be_bytes()).to_vec()
}

/// RLP [nonce, balance, storage root, code hash]: what `decode_account` reads.
#[pyfunction]
pub(crate) fn encode_account<'py>(py: Python<'py>, nonce: u64, balance: Bound<'py, PyInt>, storage_root: &[u8], code_hash: &[u8])
    -> PyResult<Bound<'py, PyBytes>> {
    let mut payload = Vec::with_capacity(80);
    rlp_string(&mut payload, &uint_u64(nonce));
    rlp_string(&mut payload, &uint_of(&balance, "account balance")?);
    rlp_string(&mut payload, storage_root);
    rlp_string(&mut payload, code_hash);
    Ok(PyBytes::new(py, &rlp_list(payload)))
}

/// Set the three bloom bits of `value` (Yellow Paper section 4.3.1).
fn add_to_bloom(bloom: &mut [u8; 256], value: &[u8]) {
    let digest = keccak256(value);
    for i in [0, 2, 4] {
        let bit = (((digest[i] as usize) << 8) | digest[i + 1] as usize) & 0x7FF;
        bloom[255 - bit / 8] |= 1 << (bit % 8);
    }
}

/// A block's logs bloom: the bloom over every log of `receipts` (each a `Receipt`), which is
/// every receipt's bloom OR-ed, with no receipt's bloom built on the way.
#[pyfunction]
pub(crate) fn logs_bloom<'py>(py: Python<'py>, receipts: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let mut bloom = [0u8; 256];
    for receipt in receipts.try_iter()? {
        for log in receipt?.getattr(intern!(py, "logs"))?.try_iter()? {
            let log = log?;
            add_to_bloom(&mut bloom, log.getattr(intern!(py, "address"))?.cast::<PyBytes>()?.as_bytes());
            for topic in log.getattr(intern!(py, "topics"))?.try_iter()? {
                add_to_bloom(&mut bloom, topic?.cast::<PyBytes>()?.as_bytes());
            }
        }
    }
    Ok(PyBytes::new(py, &bloom))
}

/// A receipt's fields, read from a `sidechain.chain.blocks.Receipt` once.
struct ReceiptFields {
    tx_type: u8,
    status: u64,
    cumulative_gas: u64,
    logs: Vec<(Vec<u8>, Vec<Vec<u8>>, Vec<u8>)>,
    gas_used: u64,
    price: Vec<u8>,
}

impl ReceiptFields {
    fn read(receipt: &Bound<'_, PyAny>) -> PyResult<Self> {
        let py = receipt.py();
        let mut logs = Vec::new();
        for log in receipt.getattr(intern!(py, "logs"))?.try_iter()? {
            let log = log?;
            logs.push((log.getattr(intern!(py, "address"))?.extract()?, log.getattr(intern!(py, "topics"))?.extract()?,
                       log.getattr(intern!(py, "data"))?.extract()?));
        }
        Ok(ReceiptFields {
            tx_type: receipt.getattr(intern!(py, "tx_type"))?.extract()?,
            status: receipt.getattr(intern!(py, "status"))?.extract()?,
            cumulative_gas: receipt.getattr(intern!(py, "cumulative_gas_used"))?.extract()?,
            logs,
            gas_used: receipt.getattr(intern!(py, "gas_used"))?.extract()?,
            price: uint_of(receipt.getattr(intern!(py, "effective_gas_price"))?.cast::<PyInt>()?, "effective gas price")?,
        })
    }

    fn logs_rlp(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for (address, topics, data) in &self.logs {
            let mut log = Vec::new();
            rlp_string(&mut log, address);
            let mut listed = Vec::new();
            for topic in topics {
                rlp_string(&mut listed, topic);
            }
            log.extend_from_slice(&rlp_list(listed));
            rlp_string(&mut log, data);
            all.extend_from_slice(&rlp_list(log));
        }
        rlp_list(all)
    }

    /// The Yellow Paper's 2048-bit bloom over every log's address and topics.
    fn bloom(&self) -> [u8; 256] {
        let mut bloom = [0u8; 256];
        for (address, topics, _) in &self.logs {
            add_to_bloom(&mut bloom, address);
            for topic in topics {
                add_to_bloom(&mut bloom, topic);
            }
        }
        bloom
    }

    /// Ethereum's encoding: rlp([status, cumulative gas, bloom, logs]), typed ones behind their type byte.
    fn consensus(&self) -> Vec<u8> {
        let mut payload = Vec::with_capacity(300);
        rlp_string(&mut payload, &uint_u64(self.status));
        rlp_string(&mut payload, &uint_u64(self.cumulative_gas));
        rlp_string(&mut payload, &self.bloom());
        payload.extend_from_slice(&self.logs_rlp());
        let body = rlp_list(payload);
        if self.tx_type == 0 {
            return body;
        }
        let mut typed = Vec::with_capacity(body.len() + 1);
        typed.push(self.tx_type);
        typed.extend_from_slice(&body);
        typed
    }

    /// The store's: rlp([type, status, cumulative gas, logs, gas used, effective gas price]), no bloom.
    fn stored(&self) -> Vec<u8> {
        let mut payload = Vec::with_capacity(32);
        rlp_string(&mut payload, &uint_u64(self.tx_type as u64));
        rlp_string(&mut payload, &uint_u64(self.status));
        rlp_string(&mut payload, &uint_u64(self.cumulative_gas));
        payload.extend_from_slice(&self.logs_rlp());
        rlp_string(&mut payload, &uint_u64(self.gas_used));
        rlp_string(&mut payload, &self.price);
        rlp_list(payload)
    }
}

/// One receipt's consensus encoding (`consensus`) or its stored one.
#[pyfunction]
pub(crate) fn encode_receipt<'py>(py: Python<'py>, receipt: Bound<'py, PyAny>, consensus: bool) -> PyResult<Bound<'py, PyBytes>> {
    let fields = ReceiptFields::read(&receipt)?;
    Ok(PyBytes::new(py, &if consensus { fields.consensus() } else { fields.stored() }))
}

/// The RLP list of a block's stored receipt encodings, each a byte string: the value the store
/// keeps for the block.
#[pyfunction]
pub(crate) fn encode_stored_receipts<'py>(py: Python<'py>, receipts: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let mut payload = Vec::new();
    for receipt in receipts.try_iter()? {
        rlp_string(&mut payload, &ReceiptFields::read(&receipt?)?.stored());
    }
    Ok(PyBytes::new(py, &rlp_list(payload)))
}

/// The ordered binary Merkle root of keccak256 of each receipt's consensus encoding.
#[pyfunction]
pub(crate) fn receipts_root<'py>(py: Python<'py>, receipts: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let mut leaves = Vec::new();
    for receipt in receipts.try_iter()? {
        leaves.push(keccak256(ReceiptFields::read(&receipt?)?.consensus()).0);
    }
    Ok(PyBytes::new(py, &merkle_root(leaves.into_iter())))
}
