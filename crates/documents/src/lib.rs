//! Tally's documents. So far one: the PDF of an invoice (`docs/contract/commerce.md` §8.3),
//! drawn from a [`InvoiceDocument`] the application fills from the books. Every text is
//! written with the standard PDF fonts, so readers and tests can extract it; money arrives
//! already formatted, in the invoice's currency.

use printpdf::{BuiltinFont, IndirectFontRef, Mm, PdfDocument, PdfLayerReference};

/// Everything an invoice PDF shows, as text ready to print.
#[derive(Debug, Clone, Default)]
pub struct InvoiceDocument {
    pub number: String,
    /// `recurring`, `adjustment`, …
    pub invoice_type: String,
    /// The stamp: `PAID`, `VOID`, `OUTSTANDING`, `DRAFT`…
    pub status: String,
    /// A sandbox organization's invoice: no money moved.
    pub test_mode: bool,
    pub seller: Vec<String>,
    pub customer: Vec<String>,
    pub issue_date: String,
    pub due_date: String,
    /// `None` for an invoice that covers no period (an adjustment).
    pub period: Option<String>,
    pub lines: Vec<DocumentLine>,
    pub subtotal: String,
    /// The discount's name and amount, when the invoice has one.
    pub discount: Option<(String, String)>,
    pub credit_applied: Option<String>,
    pub tax: String,
    pub total: String,
    pub amount_due: String,
    pub memo: Option<String>,
    pub po_number: Option<String>,
    pub reference: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct DocumentLine {
    pub description: String,
    pub feature_name: Option<String>,
    pub service_period: String,
    pub quantity: String,
    pub unit_amount: String,
    pub amount: String,
}

/// A4, in millimetres.
const PAGE_WIDTH: f32 = 210.0;
const PAGE_HEIGHT: f32 = 297.0;
const MARGIN: f32 = 18.0;
const BODY: f32 = 9.0;
const SMALL: f32 = 7.5;
/// Millimetres per point.
const MM_PER_PT: f32 = 0.3528;
/// Columns of the line table: description (with feature and period below it), quantity, unit
/// amount; amounts end at the right margin.
const QUANTITY_RIGHT: f32 = 128.0;
const UNIT_RIGHT: f32 = 158.0;
const AMOUNT_RIGHT: f32 = PAGE_WIDTH - MARGIN;
/// Characters of a description on one row before it wraps.
const DESCRIPTION_CHARS: usize = 62;

/// The PDF of `invoice`.
pub fn invoice_pdf(invoice: &InvoiceDocument) -> Result<Vec<u8>, String> {
    let title = format!("Invoice {}", invoice.number);
    let (doc, page, layer) = PdfDocument::new(&title, Mm(PAGE_WIDTH), Mm(PAGE_HEIGHT), "invoice");
    let regular = doc
        .add_builtin_font(BuiltinFont::Helvetica)
        .map_err(|e| e.to_string())?;
    let bold = doc
        .add_builtin_font(BuiltinFont::HelveticaBold)
        .map_err(|e| e.to_string())?;
    let mut pen = Pen {
        layer: doc.get_page(page).get_layer(layer),
        y: PAGE_HEIGHT - MARGIN,
        regular,
        bold,
    };

    pen.text_at(MARGIN, "Invoice", 20.0, true);
    pen.text_right(AMOUNT_RIGHT, &invoice.status, 16.0, true);
    pen.y -= 8.0;
    pen.text_at(MARGIN, &invoice.number, 11.0, false);
    if invoice.test_mode {
        pen.text_right(AMOUNT_RIGHT, "TEST MODE", 11.0, true);
    }
    pen.y -= 10.0;

    // Seller on the left, customer on the right.
    let top = pen.y;
    pen.text_at(MARGIN, "From", SMALL, true);
    pen.y -= 4.5;
    for (i, row) in invoice.seller.iter().enumerate() {
        pen.text_at(MARGIN, row, BODY, i == 0);
        pen.y -= 4.5;
    }
    let seller_end = pen.y;
    pen.y = top;
    pen.text_at(110.0, "Bill to", SMALL, true);
    pen.y -= 4.5;
    for (i, row) in invoice.customer.iter().enumerate() {
        pen.text_at(110.0, row, BODY, i == 0);
        pen.y -= 4.5;
    }
    pen.y = pen.y.min(seller_end) - 6.0;

    let mut details = vec![
        ("Invoice number", invoice.number.clone()),
        ("Type", invoice.invoice_type.clone()),
        ("Issue date", invoice.issue_date.clone()),
        ("Due date", invoice.due_date.clone()),
    ];
    if let Some(period) = &invoice.period {
        details.push(("Period", period.clone()));
    }
    for (label, value) in details {
        pen.text_at(MARGIN, label, BODY, true);
        pen.text_at(MARGIN + 35.0, &value, BODY, false);
        pen.y -= 5.0;
    }
    pen.y -= 5.0;

    pen.text_at(MARGIN, "Description", SMALL, true);
    pen.text_right(QUANTITY_RIGHT, "Qty", SMALL, true);
    pen.text_right(UNIT_RIGHT, "Unit amount", SMALL, true);
    pen.text_right(AMOUNT_RIGHT, "Amount", SMALL, true);
    pen.y -= 2.0;
    pen.rule();
    pen.y -= 5.0;
    for line in &invoice.lines {
        let rows = wrap(&line.description, DESCRIPTION_CHARS);
        let height = 4.5 * (rows.len() + 2) as f32;
        pen.make_room(height, &doc);
        pen.text_right(QUANTITY_RIGHT, &line.quantity, BODY, false);
        pen.text_right(UNIT_RIGHT, &line.unit_amount, BODY, false);
        pen.text_right(AMOUNT_RIGHT, &line.amount, BODY, false);
        for row in rows {
            pen.text_at(MARGIN, &row, BODY, false);
            pen.y -= 4.5;
        }
        let mut note = line.service_period.clone();
        if let Some(feature) = &line.feature_name {
            note = format!("{feature} · {note}");
        }
        pen.text_at(MARGIN + 3.0, &note, SMALL, false);
        pen.y -= 6.0;
    }
    pen.rule();
    pen.y -= 6.0;

    let mut totals = vec![("Subtotal".to_owned(), invoice.subtotal.clone(), false)];
    if let Some((name, amount)) = &invoice.discount {
        totals.push((format!("Discount ({name})"), amount.clone(), false));
    }
    if let Some(credit) = &invoice.credit_applied {
        totals.push(("Credit applied".to_owned(), credit.clone(), false));
    }
    totals.push(("Tax".to_owned(), invoice.tax.clone(), false));
    totals.push(("Total".to_owned(), invoice.total.clone(), true));
    totals.push(("Amount due".to_owned(), invoice.amount_due.clone(), true));
    pen.make_room(5.5 * totals.len() as f32 + 20.0, &doc);
    for (label, amount, strong) in totals {
        pen.text_at(UNIT_RIGHT - 40.0, &label, BODY, strong);
        pen.text_right(AMOUNT_RIGHT, &amount, BODY, strong);
        pen.y -= 5.5;
    }
    pen.y -= 4.0;
    let notes = [
        ("Memo", &invoice.memo),
        ("PO number", &invoice.po_number),
        ("Reference", &invoice.reference),
    ];
    for (label, value) in notes {
        if let Some(value) = value {
            let rows = wrap(value, 90);
            pen.make_room(4.5 * (rows.len() + 1) as f32, &doc);
            pen.text_at(MARGIN, label, SMALL, true);
            pen.y -= 4.5;
            for row in rows {
                pen.text_at(MARGIN, &row, BODY, false);
                pen.y -= 4.5;
            }
        }
    }
    doc.save_to_bytes().map_err(|e| e.to_string())
}

/// Where the next row goes, on which page, with which fonts.
struct Pen {
    layer: PdfLayerReference,
    /// Millimetres from the bottom of the page.
    y: f32,
    regular: IndirectFontRef,
    bold: IndirectFontRef,
}

impl Pen {
    fn font(&self, bold: bool) -> &IndirectFontRef {
        if bold { &self.bold } else { &self.regular }
    }

    fn text_at(&self, x: f32, text: &str, size: f32, bold: bool) {
        self.layer
            .use_text(text, size, Mm(x), Mm(self.y), self.font(bold));
    }

    /// `text` ending at `right`.
    fn text_right(&self, right: f32, text: &str, size: f32, bold: bool) {
        let width = text_width_pt(text, bold) * size / 1000.0 * MM_PER_PT;
        self.text_at(right - width, text, size, bold);
    }

    fn rule(&self) {
        let line = printpdf::Line {
            points: vec![
                (printpdf::Point::new(Mm(MARGIN), Mm(self.y)), false),
                (printpdf::Point::new(Mm(AMOUNT_RIGHT), Mm(self.y)), false),
            ],
            is_closed: false,
        };
        self.layer.set_outline_thickness(0.5);
        self.layer.add_line(line);
    }

    /// A new page when fewer than `height` millimetres are left above the bottom margin.
    fn make_room(&mut self, height: f32, doc: &printpdf::PdfDocumentReference) {
        if self.y - height < MARGIN {
            let (page, layer) = doc.add_page(Mm(PAGE_WIDTH), Mm(PAGE_HEIGHT), "invoice");
            self.layer = doc.get_page(page).get_layer(layer);
            self.y = PAGE_HEIGHT - MARGIN;
        }
    }
}

/// The width of `text` in thousandths of the font size, from Helvetica's metrics for the
/// characters money and dates are made of (others counted as a typical letter): enough to
/// line amounts up at the right.
fn text_width_pt(text: &str, bold: bool) -> f32 {
    text.chars()
        .map(|c| match c {
            '0'..='9' | '$' | '#' => 556.0,
            '.' | ',' | ' ' | ':' => 278.0,
            '-' => 333.0,
            'A'..='Z' => {
                if bold {
                    722.0
                } else {
                    667.0
                }
            }
            'i' | 'l' | 'j' => 222.0,
            'm' | 'w' => 833.0,
            _ => 556.0,
        })
        .sum()
}

/// `text` in rows of at most `width` characters, broken at spaces where it can be.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut rows = Vec::new();
    let mut row = String::new();
    for word in text.split_whitespace() {
        let mut word = word.to_owned();
        while word.chars().count() > width {
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            if !row.is_empty() {
                rows.push(std::mem::take(&mut row));
            }
            rows.push(head);
        }
        if !row.is_empty() && row.chars().count() + 1 + word.chars().count() > width {
            rows.push(std::mem::take(&mut row));
        }
        if !row.is_empty() {
            row.push(' ');
        }
        row.push_str(&word);
    }
    if !row.is_empty() || rows.is_empty() {
        rows.push(row);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_descriptions_wrap_at_spaces_and_long_words_are_cut() {
        assert_eq!(wrap("a b c", 3), vec!["a b", "c"]);
        assert_eq!(wrap("abcdefg", 3), vec!["abc", "def", "g"]);
        assert_eq!(wrap("", 3), vec![""]);
    }

    #[test]
    fn an_invoice_of_many_lines_renders_over_several_pages() {
        let line = DocumentLine {
            description: "Pro (Sep 1 – Oct 1, 2026)".to_owned(),
            service_period: "Sep 1, 2026 – Oct 1, 2026".to_owned(),
            quantity: "1".to_owned(),
            unit_amount: "$99.00 USD".to_owned(),
            amount: "$99.00 USD".to_owned(),
            ..DocumentLine::default()
        };
        let document = InvoiceDocument {
            number: "INV-000001".to_owned(),
            lines: vec![line; 80],
            ..InvoiceDocument::default()
        };
        let pdf = invoice_pdf(&document).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let pages = printpdf::lopdf::Document::load_mem(&pdf)
            .unwrap()
            .get_pages()
            .len();
        assert!(pages >= 3, "80 lines take several pages, got {pages}");
    }
}
