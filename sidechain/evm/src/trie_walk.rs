//! Walking and updating a trie: loading stored nodes through the Python loader on the way, and
//! applying a sorted batch of keys in one pass (`Walker::apply`), so nodes shared by several keys
//! are rebuilt once. trie.rs wraps this as the `MerkleTrie` Python class.

use std::sync::Arc;

use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use revm::primitives::B256;

use crate::trie_nodes::{decode_node, Kind, Node, Slot};

/// Sorted, distinct nibble paths and their values (empty: delete).
pub(crate) struct Batch {
    pub(crate) paths: Vec<Vec<u8>>,
    pub(crate) values: Vec<Vec<u8>>,
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
pub(crate) struct Walker<'a, 'py> {
    pub(crate) py: Python<'py>,
    pub(crate) load: Option<&'a Py<PyAny>>,
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

    pub(crate) fn resolve(&self, slot: &Slot) -> PyResult<Option<Arc<Node>>> {
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
    pub(crate) fn apply(&self, node: Option<Arc<Node>>, pos: usize, b: &Batch, lo: usize, hi: usize) -> PyResult<Option<Arc<Node>>> {
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
    pub(crate) fn walk(&self, root: &Slot, path: &[u8], mut visit: impl FnMut(&Node, usize)) -> PyResult<()> {
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
