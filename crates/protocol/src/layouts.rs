//! The layout catalogue and its normalised geometry.
//!
//! A layout is a named arrangement of positions on a canvas whose coordinates are
//! normalised to 0..1 (x to the right, y down). Positions are `reserved-N` (prominent slots),
//! `standard-N` (regular slots), and the placement-only values `auto`, `off-canvas`,
//! `playback` and `full-screen`.

use crate::limits::MAX_LAYOUT_SLOTS;
use crate::model::LayoutInfo;
use crate::prelude::*;

/// A rectangle in normalised canvas coordinates (0..1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

impl Rect {
    /// A rectangle.
    pub const fn new(x: f64, y: f64, width: f64, height: f64) -> Self {
        Rect {
            x,
            y,
            width,
            height,
        }
    }

    /// Whether the rectangle lies within the unit canvas (with a small tolerance).
    pub fn is_normalised(&self) -> bool {
        const EPS: f64 = 1e-9;
        self.x >= -EPS
            && self.y >= -EPS
            && self.width > 0.0
            && self.height > 0.0
            && self.x + self.width <= 1.0 + EPS
            && self.y + self.height <= 1.0 + EPS
    }
}

/// How a layout arranges its slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayoutShape {
    /// A fixed grid of `cols × rows` standard slots.
    Grid {
        /// Columns.
        cols: u32,
        /// Rows.
        rows: u32,
    },
    /// One large reserved slot on the left (3/4 width) and four standard slots stacked on the
    /// right.
    FiveUp,
    /// A near-square grid sized to the number of members (up to 100).
    GridResponsive,
    /// One reserved slot on top (70 % height) and the others in a strip below.
    Highlight1Responsive,
}

/// One entry of the layout catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayoutSpec {
    /// Layout name.
    pub name: &'static str,
    /// Arrangement.
    pub shape: LayoutShape,
}

/// Every layout of the reference catalogue.
pub const CATALOGUE: &[LayoutSpec] = &[
    LayoutSpec {
        name: "1x1",
        shape: LayoutShape::Grid { cols: 1, rows: 1 },
    },
    LayoutSpec {
        name: "2x1",
        shape: LayoutShape::Grid { cols: 2, rows: 1 },
    },
    LayoutSpec {
        name: "2x2",
        shape: LayoutShape::Grid { cols: 2, rows: 2 },
    },
    LayoutSpec {
        name: "3x3",
        shape: LayoutShape::Grid { cols: 3, rows: 3 },
    },
    LayoutSpec {
        name: "4x4",
        shape: LayoutShape::Grid { cols: 4, rows: 4 },
    },
    LayoutSpec {
        name: "5x5",
        shape: LayoutShape::Grid { cols: 5, rows: 5 },
    },
    LayoutSpec {
        name: "6x6",
        shape: LayoutShape::Grid { cols: 6, rows: 6 },
    },
    LayoutSpec {
        name: "8x8",
        shape: LayoutShape::Grid { cols: 8, rows: 8 },
    },
    LayoutSpec {
        name: "10x10",
        shape: LayoutShape::Grid { cols: 10, rows: 10 },
    },
    LayoutSpec {
        name: "5up",
        shape: LayoutShape::FiveUp,
    },
    LayoutSpec {
        name: "grid-responsive",
        shape: LayoutShape::GridResponsive,
    },
    LayoutSpec {
        name: "highlight-1-responsive",
        shape: LayoutShape::Highlight1Responsive,
    },
];

/// The layout a room starts with unless configured otherwise.
pub const DEFAULT_LAYOUT: &str = "grid-responsive";

/// Look up a catalogue entry.
pub fn layout_spec(name: &str) -> Option<&'static LayoutSpec> {
    CATALOGUE.iter().find(|l| l.name == name)
}

impl LayoutSpec {
    /// Number of reserved slots.
    pub fn reserved_slots(&self) -> usize {
        match self.shape {
            LayoutShape::FiveUp | LayoutShape::Highlight1Responsive => 1,
            _ => 0,
        }
    }

    /// Maximum number of slots (reserved + standard).
    pub fn capacity(&self) -> usize {
        match self.shape {
            LayoutShape::Grid { cols, rows } => (cols * rows) as usize,
            LayoutShape::FiveUp => 5,
            LayoutShape::GridResponsive | LayoutShape::Highlight1Responsive => MAX_LAYOUT_SLOTS,
        }
    }

    /// Slot position names in fill order: `reserved-1…`, then `standard-1…`, for `n`
    /// members (clamped to the capacity).
    pub fn slot_names(&self, n: usize) -> Vec<String> {
        let n = n.min(self.capacity());
        let reserved = self.reserved_slots().min(n);
        (1..=reserved)
            .map(|i| format!("reserved-{i}"))
            .chain((1..=n - reserved).map(|i| format!("standard-{i}")))
            .collect()
    }

    /// Slot rectangles in the order of [`LayoutSpec::slot_names`], for `n` members.
    pub fn geometry(&self, n: usize) -> Vec<Rect> {
        let n = n.min(self.capacity());
        match self.shape {
            LayoutShape::Grid { cols, rows } => grid(cols as usize, rows as usize, n),
            LayoutShape::GridResponsive => {
                let cols = square_cols(n);
                let rows = if cols == 0 { 0 } else { n.div_ceil(cols) };
                grid(cols, rows, n)
            }
            LayoutShape::FiveUp => (0..n)
                .map(|i| {
                    if i == 0 {
                        Rect::new(0.0, 0.0, 0.75, 1.0)
                    } else {
                        Rect::new(0.75, (i - 1) as f64 * 0.25, 0.25, 0.25)
                    }
                })
                .collect(),
            LayoutShape::Highlight1Responsive => {
                if n == 0 {
                    return Vec::new();
                }
                if n == 1 {
                    return vec![Rect::new(0.0, 0.0, 1.0, 1.0)];
                }
                let others = n - 1;
                let w = 1.0 / others as f64;
                let mut v = vec![Rect::new(0.0, 0.0, 1.0, 0.7)];
                v.extend((0..others).map(|i| Rect::new(i as f64 * w, 0.7, w, 0.3)));
                v
            }
        }
    }

    /// The catalogue entry as a `layout.list` item (positions for a full layout).
    pub fn info(&self) -> LayoutInfo {
        let mut positions = self.slot_names(match self.shape {
            LayoutShape::GridResponsive | LayoutShape::Highlight1Responsive => 9,
            _ => self.capacity(),
        });
        positions.push("off-canvas".into());
        LayoutInfo {
            name: self.name.into(),
            positions,
        }
    }
}

fn square_cols(n: usize) -> usize {
    let mut c = 0;
    while c * c < n {
        c += 1;
    }
    c
}

fn grid(cols: usize, rows: usize, n: usize) -> Vec<Rect> {
    if cols == 0 || rows == 0 {
        return Vec::new();
    }
    let w = 1.0 / cols as f64;
    let h = 1.0 / rows as f64;
    (0..n.min(cols * rows))
        .map(|i| Rect::new((i % cols) as f64 * w, (i / cols) as f64 * h, w, h))
        .collect()
}

/// The position names a layout accepts (its slots for a full room, plus `off-canvas`), or
/// `None` for an unknown layout.
pub fn layout_positions(name: &str) -> Option<Vec<String>> {
    layout_spec(name).map(|s| s.info().positions)
}

/// The slot rectangles of layout `name` for `n` members (empty for an unknown layout).
pub fn layout_geometry(name: &str, n: usize) -> Vec<Rect> {
    layout_spec(name).map(|s| s.geometry(n)).unwrap_or_default()
}

/// The `layout.list` result items for the whole catalogue.
pub fn catalogue_infos() -> Vec<LayoutInfo> {
    CATALOGUE.iter().map(LayoutSpec::info).collect()
}

/// Whether `position` is a syntactically valid position value.
pub fn is_valid_position(position: &str) -> bool {
    match position {
        "auto" | "off-canvas" | "playback" | "full-screen" => true,
        p => {
            let num = p
                .strip_prefix("reserved-")
                .or_else(|| p.strip_prefix("standard-"));
            matches!(num.map(str::parse::<u32>), Some(Ok(n)) if n >= 1)
        }
    }
}
