//! Decimal digits as requests write numbers, codes and prefixes.

/// Whether `text` is one or more ASCII decimal digits and nothing else: no sign, no
/// space, no other script's digits.
pub fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::is_digits;

    #[test]
    fn only_ascii_digits_are_digits() {
        for digits in ["0", "007", "9876543219"] {
            assert!(is_digits(digits), "{digits}");
        }
        for not_digits in ["", "+6", "-5", " 1", "1 ", "1.0", "١٢", "12a"] {
            assert!(!is_digits(not_digits), "{not_digits:?}");
        }
    }
}
