//! Merkle-Patricia trie nodes in memory and their Ethereum encoding (Yellow Paper appendices C, D).
//!
//! A node is a leaf (the rest of a key's path and its value), an extension (a path shared by every
//! key below and the one branch it leads to) or a branch (sixteen child slots and the value of a
//! key ending there). Paths are nibbles, one per byte. A child slot is empty, a node in memory, or
//! a node still in the database, referenced by hash and loaded (then kept) the first time a walk
//! needs it.
//!
//! A node's reference is computed once, when first asked for: `keccak256(rlp)` when the RLP is at
//! least 32 bytes, else the RLP itself, embedded in the parent's. `persisted` marks a node whose RLP
//! is in the database (or needs no row of its own); a persisted node only ever has persisted
//! children, so the walk for what to write stops at the first one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use revm::primitives::{keccak256, B256};

use crate::rlp::{list_items, parse_item, rlp_list, rlp_string, Item};

/// RLP of the empty string: an empty branch slot or an absent value.
const BLANK: u8 = 0x80;
/// RLP header of a 32-byte string: a child referenced by hash.
const HASH_HEADER: u8 = 0xa0;

pub(crate) enum Reference {
    Hash(B256),
    Inline(Vec<u8>),
}

impl Reference {
    fn write_into(&self, out: &mut Vec<u8>) {
        match self {
            Reference::Hash(hash) => {
                out.push(HASH_HEADER);
                out.extend_from_slice(hash.as_slice());
            }
            Reference::Inline(rlp) => out.extend_from_slice(rlp),
        }
    }
}

/// A node in the database, known by its hash until a walk loads it.
pub(crate) struct Stored {
    pub(crate) hash: B256,
    pub(crate) node: OnceLock<Arc<Node>>,
}

#[derive(Clone)]
pub(crate) enum Slot {
    Empty,
    Stored(Arc<Stored>),
    Live(Arc<Node>),
}

impl Slot {
    pub(crate) fn stored(hash: B256) -> Slot {
        Slot::Stored(Arc::new(Stored { hash, node: OnceLock::new() }))
    }

    pub(crate) fn of(node: Option<Arc<Node>>) -> Slot {
        node.map_or(Slot::Empty, Slot::Live)
    }

    pub(crate) fn is_empty(&self) -> bool {
        matches!(self, Slot::Empty)
    }

    fn write_into(&self, out: &mut Vec<u8>) {
        match self {
            Slot::Empty => out.push(BLANK),
            Slot::Stored(stored) => {
                out.push(HASH_HEADER);
                out.extend_from_slice(stored.hash.as_slice());
            }
            Slot::Live(node) => node.reference().write_into(out),
        }
    }
}

pub(crate) enum Kind {
    Leaf { path: Vec<u8>, value: Vec<u8> },
    Extension { path: Vec<u8>, child: Slot },
    Branch { children: Box<[Slot; 16]>, value: Vec<u8> },
}

pub(crate) struct Node {
    pub(crate) kind: Kind,
    reference: OnceLock<Reference>,
    persisted: AtomicBool,
}

impl Node {
    fn fresh(kind: Kind) -> Arc<Node> {
        Arc::new(Node { kind, reference: OnceLock::new(), persisted: AtomicBool::new(false) })
    }

    pub(crate) fn leaf(path: Vec<u8>, value: Vec<u8>) -> Arc<Node> {
        Node::fresh(Kind::Leaf { path, value })
    }

    pub(crate) fn extension(path: Vec<u8>, child: Slot) -> Arc<Node> {
        Node::fresh(Kind::Extension { path, child })
    }

    pub(crate) fn branch(children: Box<[Slot; 16]>, value: Vec<u8>) -> Arc<Node> {
        Node::fresh(Kind::Branch { children, value })
    }

    /// The node's reference item, hashing it (and any new descendant) the first time.
    pub(crate) fn reference(&self) -> &Reference {
        self.reference.get_or_init(|| {
            let rlp = self.encode();
            if rlp.len() >= 32 {
                Reference::Hash(keccak256(&rlp))
            } else {
                Reference::Inline(rlp)
            }
        })
    }

    /// The hash the node is stored under: keccak256 of its RLP, even for a short (root) node.
    pub(crate) fn hash(&self) -> B256 {
        match self.reference() {
            Reference::Hash(hash) => *hash,
            Reference::Inline(rlp) => keccak256(rlp),
        }
    }

    pub(crate) fn is_hashed_separately(&self) -> bool {
        matches!(self.reference(), Reference::Hash(_))
    }

    pub(crate) fn is_persisted(&self) -> bool {
        self.persisted.load(Ordering::Relaxed)
    }

    pub(crate) fn set_persisted(&self) {
        self.persisted.store(true, Ordering::Relaxed);
    }

    /// The in-memory children a walk over unpersisted nodes descends into.
    pub(crate) fn live_children(&self) -> impl Iterator<Item = &Arc<Node>> {
        let slots: &[Slot] = match &self.kind {
            Kind::Leaf { .. } => &[],
            Kind::Extension { child, .. } => std::slice::from_ref(child),
            Kind::Branch { children, .. } => &children[..],
        };
        slots.iter().filter_map(|slot| match slot {
            Slot::Live(node) => Some(node),
            _ => None,
        })
    }

    /// The node's RLP (children by reference).
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut payload = Vec::with_capacity(64);
        match &self.kind {
            Kind::Leaf { path, value } => {
                rlp_string(&mut payload, &hp_encode(path, true));
                rlp_string(&mut payload, value);
            }
            Kind::Extension { path, child } => {
                rlp_string(&mut payload, &hp_encode(path, false));
                child.write_into(&mut payload);
            }
            Kind::Branch { children, value } => {
                payload.reserve(16 * 33);
                for child in children.iter() {
                    child.write_into(&mut payload);
                }
                rlp_string(&mut payload, value);
            }
        }
        rlp_list(payload)
    }
}

// --- encoding ------------------------------------------------------------------------------------

/// The nibble path of a key, one nibble per byte; byte order and nibble order sort alike.
pub(crate) fn key_to_nibbles(key: &[u8]) -> Vec<u8> {
    let mut path = Vec::with_capacity(key.len() * 2);
    for byte in key {
        path.push(byte >> 4);
        path.push(byte & 0x0f);
    }
    path
}

/// Hex-prefix encoding: the flag nibble (leaf 2, extension 0; +1 when the path is odd), a pad
/// nibble when even, then the path.
fn hp_encode(path: &[u8], leaf: bool) -> Vec<u8> {
    let flag = if leaf { 2u8 } else { 0u8 };
    let mut out = Vec::with_capacity(path.len() / 2 + 1);
    let rest = if path.len() % 2 == 1 {
        out.push(((flag + 1) << 4) | path[0]);
        &path[1..]
    } else {
        out.push(flag << 4);
        path
    };
    for pair in rest.chunks_exact(2) {
        out.push((pair[0] << 4) | pair[1]);
    }
    out
}

fn hp_decode(data: &[u8]) -> Result<(Vec<u8>, bool), String> {
    let first = *data.first().ok_or("empty hex-prefix path")?;
    let flag = first >> 4;
    if flag > 3 || (flag % 2 == 0 && first & 0x0f != 0) {
        return Err(format!("bad hex-prefix path 0x{}", hex(data)));
    }
    let mut path = Vec::with_capacity(data.len() * 2);
    if flag % 2 == 1 {
        path.push(first & 0x0f);
    }
    path.extend(key_to_nibbles(&data[1..]));
    Ok((path, flag >= 2))
}



pub(crate) fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

// --- decoding ------------------------------------------------------------------------------------

/// A persisted node from its RLP as stored under `hash`.
pub(crate) fn decode_node(data: &[u8], hash: B256) -> Result<Arc<Node>, String> {
    let actual = keccak256(data);
    if actual != hash {
        return Err(format!("trie node stored under 0x{} hashes to 0x{}", hex(hash.as_slice()), hex(actual.as_slice())));
    }
    let (item, rest) = parse_item(data).map_err(|e| format!("trie node is not RLP: {e}"))?;
    if !rest.is_empty() {
        return Err(format!("trie node is not RLP: {} bytes after the item", rest.len()));
    }
    let reference = if data.len() >= 32 { Reference::Hash(hash) } else { Reference::Inline(data.to_vec()) };
    persisted(kind_of(&item)?, reference)
}

fn persisted(kind: Kind, reference: Reference) -> Result<Arc<Node>, String> {
    let node = Node { kind, reference: OnceLock::new(), persisted: AtomicBool::new(true) };
    let _ = node.reference.set(reference);
    Ok(Arc::new(node))
}

fn kind_of(item: &Item<'_>) -> Result<Kind, String> {
    if !item.list {
        return Err("trie node is an RLP string, not a list".into());
    }
    let items = list_items(item.payload).map_err(|e| format!("trie node is not RLP: {e}"))?;
    match items.len() {
        17 => {
            let mut children: Box<[Slot; 16]> = Box::new(std::array::from_fn(|_| Slot::Empty));
            for (slot, child) in children.iter_mut().zip(&items[..16]) {
                *slot = child_of(child)?;
            }
            if items[16].list {
                return Err("branch value is a list".into());
            }
            Ok(Kind::Branch { children, value: items[16].payload.to_vec() })
        }
        2 if !items[0].list => {
            let (path, leaf) = hp_decode(items[0].payload)?;
            if leaf {
                if items[1].list {
                    return Err("leaf value is a list".into());
                }
                return Ok(Kind::Leaf { path, value: items[1].payload.to_vec() });
            }
            match child_of(&items[1])? {
                Slot::Empty => Err("extension without a child".into()),
                child => Ok(Kind::Extension { path, child }),
            }
        }
        n => Err(format!("trie node has {n} items, expected 2 or 17")),
    }
}

fn child_of(item: &Item<'_>) -> Result<Slot, String> {
    if item.list {
        // embedded: its reference is its own RLP, and it has no row of its own
        return Ok(Slot::Live(persisted(kind_of(item)?, Reference::Inline(item.raw.to_vec()))?));
    }
    match item.payload.len() {
        0 => Ok(Slot::Empty),
        32 => Ok(Slot::stored(B256::from_slice(item.payload))),
        n => Err(format!("child reference of {n} bytes, expected 32 or an inline node")),
    }
}
