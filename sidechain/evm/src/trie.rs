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

use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use revm::primitives::B256;

use crate::catching;
use crate::trie_nodes::{decode_node, hex, key_to_nibbles, Kind, Node, Slot};

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

/// Sorted, distinct nibble paths and their values (empty: delete).
struct Batch {
    paths: Vec<Vec<u8>>,
    values: Vec<Vec<u8>>,
}

fn same(a: &Option<Arc<Node>>, b: &Option<Arc<Node>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        _ => false,
    }
}

fn common_prefix_length(path: &[u8], ext: &[u8], pos: usize) -> usize {
    path.get(pos..).unwrap_or(&[]).iter().zip(ext).take_while(|(a, b)| a == b).count()
}

fn has_prefix_at(path: &[u8], pos: usize, prefix: &[u8]) -> bool {
    path.get(pos..pos + prefix.len()) == Some(prefix)
}

/// A fresh subtrie at depth `pos` for sorted distinct paths; entries with empty values are skipped.
fn build_subtrie(pos: usize, entries: &[(&[u8], &[u8])]) -> Option<Arc<Node>> {
    let kept: Vec<(&[u8], &[u8])> = entries.iter().copied().filter(|(_, value)| !value.is_empty()).collect();
    if kept.is_empty() {
        None
    } else {
        Some(build(pos, &kept))
    }
}

fn build(pos: usize, entries: &[(&[u8], &[u8])]) -> Arc<Node> {
    if entries.len() == 1 {
        let (path, value) = entries[0];
        return Node::leaf(path[pos..].to_vec(), value.to_vec());
    }
    let (first, last) = (entries[0].0, entries[entries.len() - 1].0);
    let shared = common_prefix_length(last, &first[pos..], pos);
    if shared > 0 {
        return Node::extension(first[pos..pos + shared].to_vec(), Slot::Live(build(pos + shared, entries)));
    }
    let mut children: Box<[Slot; 16]> = Box::new(std::array::from_fn(|_| Slot::Empty));
    let mut value = Vec::new();
    let mut i = 0;
    if entries[0].0.len() == pos {
        value = entries[0].1.to_vec();
        i = 1;
    }
    while i < entries.len() {
        let nibble = entries[i].0[pos];
        let j = i + entries[i..].iter().take_while(|(path, _)| path[pos] == nibble).count();
        children[nibble as usize] = Slot::Live(build(pos + 1, &entries[i..j]));
        i = j;
    }
    Node::branch(children, value)
}

/// `node` moved `prefix` nibbles deeper into the key: merge the prefix into its path.
fn join(prefix: &[u8], node: Option<Arc<Node>>) -> Option<Arc<Node>> {
    let node = node?;
    Some(match &node.kind {
        Kind::Leaf { path, value } => Node::leaf([prefix, path].concat(), value.clone()),
        Kind::Extension { path, child } => Node::extension([prefix, path].concat(), child.clone()),
        Kind::Branch { .. } => Node::extension(prefix.to_vec(), Slot::Live(node)),
    })
}

/// Walks that may need to read nodes from the database.
struct Walker<'a, 'py> {
    py: Python<'py>,
    load: Option<&'a Py<PyAny>>,
}

impl Walker<'_, '_> {
    fn missing(&self, hash: &B256) -> PyErr {
        let error = self.py.import("sidechain.errors").and_then(|m| m.getattr("MissingTrieNode"))
            .and_then(|cls| cls.call1((PyBytes::new(self.py, hash.as_slice()),)));
        match error {
            Ok(error) => PyErr::from_value(error),
            Err(err) => err,
        }
    }

    fn resolve(&self, slot: &Slot) -> PyResult<Option<Arc<Node>>> {
        let stored = match slot {
            Slot::Empty => return Ok(None),
            Slot::Live(node) => return Ok(Some(node.clone())),
            Slot::Stored(stored) => stored,
        };
        if let Some(node) = stored.node.get() {
            return Ok(Some(node.clone()));
        }
        let load = self.load.ok_or_else(|| self.missing(&stored.hash))?;
        let data = match load.bind(self.py).call1((PyBytes::new(self.py, stored.hash.as_slice()),)) {
            Ok(data) => data,
            Err(err) if err.is_instance_of::<PyKeyError>(self.py) => return Err(self.missing(&stored.hash)),
            Err(err) => return Err(err),
        };
        let data = data.cast::<PyBytes>().map_err(PyErr::from)?;
        let node = decode_node(data.as_bytes(), stored.hash).map_err(PyValueError::new_err)?;
        Ok(Some(stored.node.get_or_init(|| node).clone()))
    }

    /// The subtrie at depth `pos` after applying batch[lo..hi] (sorted, sharing path[..pos]).
    fn apply(&self, node: Option<Arc<Node>>, pos: usize, b: &Batch, lo: usize, hi: usize) -> PyResult<Option<Arc<Node>>> {
        let Some(node) = node else {
            return Ok(build_subtrie(pos, &entries(b, lo, hi, None)));
        };
        match &node.kind {
            Kind::Branch { .. } => self.apply_branch(&node, pos, b, lo, hi),
            Kind::Leaf { path, value } => {
                let full = [&b.paths[lo][..pos], path].concat();
                if hi - lo == 1 && b.paths[lo] == full {
                    let new = &b.values[lo];
                    return Ok(if new == value {
                        Some(node.clone())
                    } else if new.is_empty() {
                        None
                    } else {
                        Some(Node::leaf(path.clone(), new.clone()))
                    });
                }
                if b.paths[lo..hi].binary_search(&full).is_ok() {
                    return Ok(build_subtrie(pos, &entries(b, lo, hi, None)));
                }
                if b.values[lo..hi].iter().all(|v| v.is_empty()) {
                    return Ok(Some(node.clone()));
                }
                Ok(build_subtrie(pos, &entries(b, lo, hi, Some((&full, value)))))
            }
            Kind::Extension { path: ext, child } => {
                // keys under it share its path; the first and last key bound the overlap
                let end = pos + ext.len();
                let (first, last) = (&b.paths[lo], &b.paths[hi - 1]);
                if has_prefix_at(first, pos, ext) && has_prefix_at(last, pos, ext) {
                    let old = self.resolve(child)?;
                    let new = self.apply(old.clone(), end, b, lo, hi)?;
                    return Ok(if same(&new, &old) { Some(node.clone()) } else { join(ext, new) });
                }
                let split = common_prefix_length(first, ext, pos).min(common_prefix_length(last, ext, pos));
                let rest = if split + 1 == ext.len() { child.clone() } else { Slot::Live(Node::extension(ext[split + 1..].to_vec(), child.clone())) };
                let mut children: Box<[Slot; 16]> = Box::new(std::array::from_fn(|_| Slot::Empty));
                children[ext[split] as usize] = rest;
                let pivot = Node::branch(children, Vec::new()); // transient: one child, no value
                let new = self.apply_branch(&pivot, pos + split, b, lo, hi)?;
                if same(&new, &Some(pivot)) {
                    return Ok(Some(node.clone()));
                }
                Ok(if split > 0 { join(&ext[..split], new) } else { new })
            }
        }
    }

    fn apply_branch(&self, node: &Arc<Node>, pos: usize, b: &Batch, lo: usize, hi: usize) -> PyResult<Option<Arc<Node>>> {
        let Kind::Branch { children, value: old_value } = &node.kind else { unreachable!("apply_branch on a non-branch") };
        let mut value = old_value;
        let mut new_children: Option<Box<[Slot; 16]>> = None;
        let mut i = lo;
        if b.paths[i].len() == pos {
            value = &b.values[i];
            i += 1;
        }
        while i < hi {
            let nibble = b.paths[i][pos] as usize;
            let j = i + b.paths[i..hi].iter().take_while(|p| p[pos] as usize == nibble).count();
            let child = self.resolve(&children[nibble])?;
            let new = if child.is_none() && j == i + 1 {
                // the common case of a new key: skip the general path
                (!b.values[i].is_empty()).then(|| Node::leaf(b.paths[i][pos + 1..].to_vec(), b.values[i].clone()))
            } else {
                self.apply(child.clone(), pos + 1, b, i, j)?
            };
            if !same(&new, &child) {
                new_children.get_or_insert_with(|| children.clone())[nibble] = Slot::of(new);
            }
            i = j;
        }
        let mut new_children = match new_children {
            Some(slots) => slots,
            None if value == old_value => return Ok(Some(node.clone())),
            None => children.clone(),
        };
        let live = new_children.iter().filter(|slot| !slot.is_empty()).count();
        if live >= 2 || (live == 1 && !value.is_empty()) {
            return Ok(Some(Node::branch(new_children, value.clone())));
        }
        if live == 0 {
            return Ok((!value.is_empty()).then(|| Node::leaf(Vec::new(), value.clone())));
        }
        // one child and no value left: Ethereum forbids such a branch; fold it into its child
        let nibble = new_children.iter().position(|slot| !slot.is_empty()).unwrap_or(0);
        let only = std::mem::replace(&mut new_children[nibble], Slot::Empty);
        Ok(join(&[nibble as u8], self.resolve(&only)?))
    }

    /// The nodes on the way to `path`, the root first, up to where the path leaves the trie.
    fn walk(&self, root: &Slot, path: &[u8], mut visit: impl FnMut(&Node, usize)) -> PyResult<()> {
        let (mut node, mut pos) = (self.resolve(root)?, 0);
        while let Some(current) = node {
            visit(&current, pos);
            node = match &current.kind {
                Kind::Leaf { .. } => None,
                Kind::Extension { path: ext, child } => {
                    if !has_prefix_at(path, pos, ext) {
                        return Ok(());
                    }
                    pos += ext.len();
                    self.resolve(child)?
                }
                Kind::Branch { children, .. } => {
                    if pos == path.len() {
                        return Ok(());
                    }
                    pos += 1;
                    self.resolve(&children[path[pos - 1] as usize])?
                }
            };
        }
        Ok(())
    }
}

/// batch[lo..hi] as (path, value) pairs, with `extra` merged in order.
fn entries<'a>(b: &'a Batch, lo: usize, hi: usize, extra: Option<(&'a [u8], &'a [u8])>) -> Vec<(&'a [u8], &'a [u8])> {
    let mut out: Vec<(&[u8], &[u8])> = (lo..hi).map(|i| (b.paths[i].as_slice(), b.values[i].as_slice())).collect();
    if let Some(extra) = extra {
        let at = out.partition_point(|(path, _)| *path < extra.0);
        out.insert(at, extra);
    }
    out
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
