//! A small element tree over quick-xml, with byte offsets for line and column.
//!
//! REFI-QDA files refer across the document (codings to codes, cases to sources),
//! so the reader first builds the whole tree, then walks it. Names are local
//! (namespace prefixes dropped): tools disagree on the namespace version.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// Deeper nesting than this is refused (it guards the recursive walks and drops).
pub(crate) const MAX_DEPTH: usize = 1000;

/// One element: its local name, attributes, children and direct text.
#[derive(Debug, Default)]
pub(crate) struct Element {
    /// Local name (`Code` for `<qda:Code>`).
    pub name: String,
    /// The prefix of the element's name, if any.
    pub prefix: Option<String>,
    /// Attributes by local name, values unescaped; namespace declarations apart.
    pub attrs: Vec<(String, String)>,
    /// `xmlns` (key `""`) and `xmlns:p` (key `p`) declarations.
    pub namespaces: Vec<(String, String)>,
    /// Child elements, in document order.
    pub children: Vec<Element>,
    /// The element's own text (text, CDATA and references), concatenated.
    pub text: String,
    /// Byte offset of the element's `<` in the document.
    pub offset: usize,
}

impl Element {
    /// The value of the attribute with this local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first child with this local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The children with this local name.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The namespace of the element's name, when declared on this element.
    pub fn own_namespace(&self) -> Option<&str> {
        let key = self.prefix.as_deref().unwrap_or("");
        self.namespaces
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a document is not well-formed, and where (a byte offset).
#[derive(Debug)]
pub(crate) struct XmlError {
    pub offset: usize,
    pub message: String,
}

/// Parses a whole document into its root element.
pub(crate) fn parse(text: &str) -> Result<Element, XmlError> {
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.trim_text(false);
    config.check_end_names = true;
    config.expand_empty_elements = false;

    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let before = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                return Err(XmlError {
                    offset: reader.error_position() as usize,
                    message: e.to_string(),
                });
            }
        };
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError {
                        offset: before,
                        message: format!("elements are nested more than {MAX_DEPTH} deep"),
                    });
                }
                let element = element(&start, before)?;
                if stack.is_empty() && root.is_some() {
                    return Err(second_root(&element));
                }
                stack.push(element);
            }
            Event::Empty(start) => {
                let element = element(&start, before)?;
                attach(&mut stack, &mut root, element)?;
            }
            Event::End(_) => {
                // quick-xml checks that the end tag matches (check_end_names).
                if let Some(element) = stack.pop() {
                    attach(&mut stack, &mut root, element)?;
                }
            }
            Event::Text(t) => {
                let content = t.xml10_content().map_err(|e| XmlError {
                    offset: before,
                    message: e.to_string(),
                })?;
                push_text(&mut stack, &content, before)?;
            }
            Event::CData(c) => {
                let content = c.decode().map_err(|e| XmlError {
                    offset: before,
                    message: e.to_string(),
                })?;
                push_text(&mut stack, &content, before)?;
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = r.decode().unwrap_or_default();
                        match predefined_entity(&name) {
                            Some(s) => s.to_string(),
                            None => {
                                return Err(XmlError {
                                    offset: before,
                                    message: format!("unknown entity `&{name};`"),
                                });
                            }
                        }
                    }
                    Err(e) => {
                        return Err(XmlError {
                            offset: before,
                            message: e.to_string(),
                        });
                    }
                };
                push_text(&mut stack, &resolved, before)?;
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(XmlError {
            offset: open.offset,
            message: format!("element <{}> is never closed", open.name),
        });
    }
    root.ok_or(XmlError {
        offset: text.len(),
        message: "the document has no root element".to_string(),
    })
}

fn predefined_entity(name: &str) -> Option<&'static str> {
    Some(match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        _ => return None,
    })
}

fn second_root(element: &Element) -> XmlError {
    XmlError {
        offset: element.offset,
        message: format!(
            "a second root element <{}> follows the first one",
            element.name
        ),
    }
}

fn attach(
    stack: &mut [Element],
    root: &mut Option<Element>,
    element: Element,
) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None if root.is_some() => return Err(second_root(&element)),
        None => *root = Some(element),
    }
    Ok(())
}

fn push_text(stack: &mut [Element], content: &str, offset: usize) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(top) => top.text.push_str(content),
        None if content.trim().is_empty() => {}
        None => {
            return Err(XmlError {
                offset,
                message: "text outside the root element".to_string(),
            });
        }
    }
    Ok(())
}

fn element(start: &BytesStart<'_>, offset: usize) -> Result<Element, XmlError> {
    let qname = start.name();
    let local = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let prefix = qname
        .prefix()
        .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned());
    let mut element = Element {
        name: local,
        prefix,
        offset,
        ..Element::default()
    };
    for attr in start.attributes() {
        let attr = attr.map_err(|e| XmlError {
            offset,
            message: format!("in the attributes of <{}>: {e}", element.name),
        })?;
        let value = attr
            .unescape_value()
            .map_err(|e| XmlError {
                offset,
                message: format!("in the attributes of <{}>: {e}", element.name),
            })?
            .into_owned();
        let key = attr.key;
        let full = key.as_ref();
        if full == b"xmlns" {
            element.namespaces.push((String::new(), value));
        } else if let Some(p) = full.strip_prefix(b"xmlns:") {
            element
                .namespaces
                .push((String::from_utf8_lossy(p).into_owned(), value));
        } else {
            let name = String::from_utf8_lossy(key.local_name().as_ref()).into_owned();
            element.attrs.push((name, value));
        }
    }
    Ok(element)
}

/// Line and column (1-based, column in characters) of a byte offset in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

/// The text of a line (1-based), without its line end, when short enough to show.
pub(crate) fn short_line(text: &str, line: u32) -> Option<&str> {
    let l = text.split('\n').nth((line as usize).checked_sub(1)?)?;
    let l = l.strip_suffix('\r').unwrap_or(l);
    (l.chars().count() <= 200).then_some(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_names_attributes_text() {
        let doc = "<?xml version=\"1.0\"?>\n<q:Project xmlns:q=\"urn:QDA-XML:project:1.0\" name=\"a &amp; b\">\n  <q:Code guid=\"x\"><Description>d&#233;j&#x00E0; <![CDATA[<vu>]]></Description></q:Code>\n</q:Project>";
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "Project");
        assert_eq!(root.own_namespace(), Some("urn:QDA-XML:project:1.0"));
        assert_eq!(root.attr("name"), Some("a & b"));
        let code = root.child("Code").unwrap();
        assert_eq!(code.attr("guid"), Some("x"));
        assert_eq!(code.child("Description").unwrap().text, "déjà <vu>");
        assert_eq!(line_col(doc, code.offset), (3, 3));
    }

    #[test]
    fn errors_have_positions() {
        let doc = "<a>\n  <b></c>\n</a>";
        let e = parse(doc).unwrap_err();
        assert_eq!(line_col(doc, e.offset).0, 2, "{e:?}");
        let e = parse("<a>\n<b>").unwrap_err();
        assert!(e.message.contains("never closed"), "{e:?}");
        assert!(parse("<a/><b/>").is_err());
        assert!(parse("").is_err());
        assert!(parse("<a>&foo;</a>").unwrap_err().message.contains("foo"));
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).unwrap_err().message.contains("nested"));
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(line_col("é\nüü<x", 7), (2, 3));
        assert_eq!(line_col("é\nüü<x", 6), (2, 2));
        assert_eq!(line_col("abc", 99), (1, 4));
        assert_eq!(line_col("é", 1), (1, 1));
    }
}
