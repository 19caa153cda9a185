//! Canonical RLP, the little of it the trie and transaction decoders need: strict parsing (minimal
//! lengths, no single byte under 0x80 behind a header) and the two encoders.

pub(crate) struct Item<'a> {
    pub(crate) list: bool,
    pub(crate) payload: &'a [u8],
    /// The whole item, header included.
    pub(crate) raw: &'a [u8],
}

/// One canonical RLP item at the start of `data` and what follows it.
pub(crate) fn parse_item(data: &[u8]) -> Result<(Item<'_>, &[u8]), String> {
    let first = *data.first().ok_or("RLP ends early")?;
    let (list, header, len) = match first {
        0x00..=0x7f => return Ok((Item { list: false, payload: &data[..1], raw: &data[..1] }, &data[1..])),
        0x80..=0xb7 => (false, 1, (first - 0x80) as usize),
        0xc0..=0xf7 => (true, 1, (first - 0xc0) as usize),
        _ => {
            let (list, width) = if first >= 0xf8 { (true, (first - 0xf7) as usize) } else { (false, (first - 0xb7) as usize) };
            let bytes = data.get(1..1 + width).ok_or("RLP length ends early")?;
            if bytes[0] == 0 || width > 4 {
                return Err("non-canonical RLP length".into());
            }
            let len = bytes.iter().fold(0usize, |n, b| (n << 8) | *b as usize);
            if len < 56 {
                return Err("non-canonical RLP length".into());
            }
            (list, 1 + width, len)
        }
    };
    let end = header + len;
    let payload = data.get(header..end).ok_or("RLP item ends early")?;
    if !list && len == 1 && payload[0] < 0x80 {
        return Err("non-canonical RLP single byte".into());
    }
    Ok((Item { list, payload, raw: &data[..end] }, &data[end..]))
}

pub(crate) fn list_items(payload: &[u8]) -> Result<Vec<Item<'_>>, String> {
    let mut items = Vec::with_capacity(17);
    let mut rest = payload;
    while !rest.is_empty() {
        let (item, tail) = parse_item(rest)?;
        items.push(item);
        rest = tail;
    }
    Ok(items)
}

/// A big-endian integer without its leading zero bytes: RLP's canonical form (zero is empty).
pub(crate) fn minimal_be(bytes: &[u8]) -> &[u8] {
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    &bytes[skip..]
}

fn length_header(out: &mut Vec<u8>, short: u8, long: u8, n: usize) {
    if n < 56 {
        out.push(short + n as u8);
    } else {
        let bytes = n.to_be_bytes();
        let length = minimal_be(&bytes);
        out.push(long + length.len() as u8);
        out.extend_from_slice(length);
    }
}

pub(crate) fn rlp_string(out: &mut Vec<u8>, data: &[u8]) {
    if data.len() == 1 && data[0] < 0x80 {
        out.push(data[0]);
    } else {
        length_header(out, 0x80, 0xb7, data.len());
        out.extend_from_slice(data);
    }
}

pub(crate) fn rlp_list(payload: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 3);
    length_header(&mut out, 0xc0, 0xf7, payload.len());
    out.extend_from_slice(&payload);
    out
}
