//! An incremental, functional hexary Merkle-Patricia trie with Ethereum's exact encoding, for the
//! node's state (`sidechain.chain.trie` names it `MerkleTrie`).
//!
//! `update` returns a new trie that shares every untouched node with the old one; nodes in the
//! database are read through a Python `load_node(hash) -> bytes` (raising KeyError when absent)
//! the first time a walk needs them, checked against their hash, and kept, so a long-lived
//! committed trie stays warm from block to block. Hashing is lazy and touches only new nodes.
//! `new_nodes` lists what a commit must write and `mark_committed` records that it was written.
//!
//! Every node is immutable once built apart from caches set once (its reference, a loaded child)
//! and its persisted flag, so tries derived from one another may be read from several threads.

use std::sync::{Arc, OnceLock};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use revm::primitives::B256;

use crate::catching;
use crate::trie_nodes::{hex, key_to_nibbles, Kind, Node, Slot};
use crate::trie_walk::{Batch, Walker};

/// keccak256(rlp(b"")): the root of the empty trie.
const EMPTY_ROOT: [u8; 32] = [
    0x56, 0xe8, 0x1f, 0x17, 0x1b, 0xcc, 0x55, 0xa6, 0xff, 0x83, 0x45, 0xe6, 0x92, 0xc0, 0xf8, 0x6e,
    0x5b, 0x48, 0xe0, 0x1b, 0x99, 0x6c, 0xad, 0xc0, 0x01, 0x62, 0x2f, 0xb5, 0xe3, 0x63, 0xb4, 0x21,
];

#[pyclass(frozen, module = "sidechain.evm._revm", name = "MerkleTrie")]
pub(crate) struct MerkleTrie {
    root: Slot,
    load: Option<Py<PyAny>>,
    root_hash: OnceLock<B256>,
}

impl MerkleTrie {
    fn walker<'a, 'py>(&'a self, py: Python<'py>) -> Walker<'a, 'py> {
        Walker { py, load: self.load.as_ref() }
    }

    fn hash(&self) -> B256 {
        *self.root_hash.get_or_init(|| match &self.root {
            Slot::Empty => B256::from(EMPTY_ROOT),
            Slot::Stored(stored) => stored.hash,
            Slot::Live(node) => node.hash(),
        })
    }

    fn derived(&self, py: Python<'_>, root: Option<Arc<Node>>) -> MerkleTrie {
        MerkleTrie { root: Slot::of(root), load: self.load.as_ref().map(|load| load.clone_ref(py)), root_hash: OnceLock::new() }
    }

    /// Every unpersisted node the root reaches, parents first.
    fn dirty(&self) -> Vec<Arc<Node>> {
        let mut out = Vec::new();
        let mut stack: Vec<Arc<Node>> = match &self.root {
            Slot::Live(node) => vec![node.clone()],
            _ => return out,
        };
        while let Some(node) = stack.pop() {
            if node.is_persisted() {
                continue;
            }
            stack.extend(node.live_children().cloned());
            out.push(node);
        }
        out
    }
}

#[pymethods]
impl MerkleTrie {
    /// Open the trie with `root_hash`, reading its nodes through `load_node` on demand.
    #[new]
    #[pyo3(signature = (root_hash = None, load_node = None))]
    fn new(root_hash: Option<Vec<u8>>, load_node: Option<Py<PyAny>>) -> PyResult<Self> {
        let root_hash = root_hash.unwrap_or_else(|| EMPTY_ROOT.to_vec());
        if root_hash.len() != 32 {
            return Err(PyValueError::new_err(format!("trie root length: expected 32, got {}", root_hash.len())));
        }
        let hash = B256::from_slice(&root_hash);
        let root = if hash.0 == EMPTY_ROOT { Slot::Empty } else { Slot::stored(hash) };
        Ok(MerkleTrie { root, load: load_node, root_hash: OnceLock::from(hash) })
    }

    /// How this trie reads nodes from the database (storage tries share the account trie's).
    #[getter]
    fn load_node(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.load.as_ref().map(|load| load.clone_ref(py))
    }

    /// keccak256 of the root node's RLP (the root is hashed even when shorter than 32 bytes).
    #[getter]
    fn root_hash<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.hash().as_slice())
    }

    /// The value stored under `key`, or None.
    fn get<'py>(&self, py: Python<'py>, key: &[u8]) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let path = key_to_nibbles(key);
        let mut found: Option<Bound<'py, PyBytes>> = None;
        catching(|| self.walker(py).walk(&self.root, &path, |node, pos| match &node.kind {
            Kind::Leaf { path: rest, value } if path[pos..] == rest[..] => found = Some(PyBytes::new(py, value)),
            Kind::Branch { value, .. } if pos == path.len() && !value.is_empty() => found = Some(PyBytes::new(py, value)),
            _ => {}
        }))?;
        Ok(found)
    }

    /// RLP of the root and of each hashed node on the path to `key` (eth_getProof's format). Also
    /// a proof of absence when `key` is missing. Nodes under 32 bytes are inside their parent's
    /// RLP and not listed, as in go-ethereum.
    fn proof<'py>(&self, py: Python<'py>, key: &[u8]) -> PyResult<Bound<'py, PyList>> {
        self.hash();
        let path = key_to_nibbles(key);
        let mut out: Vec<Bound<'py, PyBytes>> = Vec::new();
        catching(|| self.walker(py).walk(&self.root, &path, |node, _| {
            if out.is_empty() || node.is_hashed_separately() {
                out.push(PyBytes::new(py, &node.encode()));
            }
        }))?;
        PyList::new(py, out)
    }

    /// A new trie with `items` ((key, value) pairs; None or b"" deletes) applied; this trie is
    /// left unchanged. Later items win over earlier ones with the same key.
    fn update(&self, py: Python<'_>, items: &Bound<'_, PyAny>) -> PyResult<MerkleTrie> {
        let mut latest: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        for item in items.try_iter()? {
            let (key, value): (Bound<'_, PyBytes>, Option<Bound<'_, PyBytes>>) = item?.extract()?;
            latest.push((key_to_nibbles(key.as_bytes()), value.map(|v| v.as_bytes().to_vec()).unwrap_or_default()));
        }
        if latest.is_empty() {
            let same = self.derived(py, None);
            return Ok(MerkleTrie { root: self.root.clone(), root_hash: self.root_hash.clone(), ..same });
        }
        latest.sort_by(|a, b| a.0.cmp(&b.0)); // stable: equal keys keep their order
        let mut batch = Batch { paths: Vec::with_capacity(latest.len()), values: Vec::with_capacity(latest.len()) };
        for (path, value) in latest {
            if batch.paths.last() == Some(&path) {
                *batch.values.last_mut().expect("a value per path") = value;
            } else {
                batch.paths.push(path);
                batch.values.push(value);
            }
        }
        let walker = self.walker(py);
        let new = catching(|| walker.apply(walker.resolve(&self.root)?, 0, &batch, 0, batch.paths.len()))?;
        Ok(self.derived(py, new))
    }

    /// hash -> RLP of every node created since the last `mark_committed` that the root reaches.
    /// Writing these makes this root loadable through `load_node` alone.
    fn new_nodes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        let root_hash = self.hash();
        for node in self.dirty() {
            if node.is_hashed_separately() {
                out.set_item(PyBytes::new(py, node.hash().as_slice()), PyBytes::new(py, &node.encode()))?;
            }
        }
        if let Slot::Live(root) = &self.root {
            if !root.is_persisted() && !root.is_hashed_separately() {
                // a short root is still stored under its hash
                out.set_item(PyBytes::new(py, root_hash.as_slice()), PyBytes::new(py, &root.encode()))?;
            }
        }
        Ok(out)
    }

    /// The nodes `new_nodes` returned are persisted: stop reporting them (in every trie).
    fn mark_committed(&self) {
        self.hash();
        for node in self.dirty() {
            node.set_persisted();
        }
    }

    fn __repr__(&self) -> String {
        format!("MerkleTrie(0x{})", hex(self.hash().as_slice()))
    }
}
