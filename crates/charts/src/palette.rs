//! Colours: dark enough to print on white, told apart without relying on hue.

use std::fmt;

/// An sRGB colour, written as `#rrggbb`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Colour(pub u8, pub u8, pub u8);

impl fmt::Display for Colour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

impl Colour {
    const fn hex(rgb: u32) -> Colour {
        Colour((rgb >> 16) as u8, (rgb >> 8) as u8, rgb as u8)
    }

    /// The colour `t` of the way from `self` to `other`.
    fn mix(self, other: Colour, t: f64) -> Colour {
        let channel =
            |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
        Colour(
            channel(self.0, other.0),
            channel(self.1, other.1),
            channel(self.2, other.2),
        )
    }

    /// WCAG relative luminance, 0 (black) to 1 (white).
    fn luminance(self) -> f64 {
        let [r, g, b] = self.linear();
        0.2126 * r + 0.7152 * g + 0.0722 * b
    }

    /// The linear-light red, green and blue, 0 to 1.
    fn linear(self) -> [f64; 3] {
        [self.0, self.1, self.2].map(|c| {
            let c = f64::from(c) / 255.0;
            if c <= 0.040_45 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        })
    }

    /// WCAG contrast ratio with `other`, from 1 to 21.
    pub fn contrast(self, other: Colour) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }
}

/// Text.
pub(crate) const INK: Colour = Colour::hex(0x1b1f24);
/// Secondary text: ticks, captions.
pub(crate) const MUTED: Colour = Colour::hex(0x57606a);
/// Grid lines.
pub(crate) const RULE: Colour = Colour::hex(0xd0d7de);
/// The zero line and dividers.
pub(crate) const AXIS: Colour = Colour::hex(0x8c959f);
/// Text on shaded cells, where ink would not reach 4.5:1 at mid ramp.
const BLACK: Colour = Colour::hex(0x000000);
/// Paper.
pub(crate) const WHITE: Colour = Colour::hex(0xffffff);

/// Series colours: the Okabe–Ito set without its yellow, the strongest first.
const SERIES: [Colour; 7] = [
    Colour::hex(0x0072b2),
    Colour::hex(0xd55e00),
    Colour::hex(0x009e73),
    Colour::hex(0xcc79a7),
    BLACK,
    Colour::hex(0xe69f00),
    Colour::hex(0x56b4e9),
];

/// Dash patterns, so series differ in greyscale print too.
const DASHES: [&str; 4] = ["", "6 3", "2 2", "8 3 2 3"];

/// Colour and dash pattern of the `index`th series.
pub(crate) fn series(index: usize) -> (Colour, &'static str) {
    (SERIES[index % SERIES.len()], DASHES[index % DASHES.len()])
}

/// The sequential ramp, light to dark blue: lightness alone carries the value.
const RAMP: [Colour; 5] = [
    Colour::hex(0xdeebf7),
    Colour::hex(0xb1cde6),
    Colour::hex(0x77a6cf),
    Colour::hex(0x3b74ac),
    Colour::hex(0x0d3d6e),
];

/// The ramp colour `t` (0 to 1, clamped) of the way from light to dark.
pub(crate) fn ramp(t: f64) -> Colour {
    let at = t.clamp(0.0, 1.0) * (RAMP.len() - 1) as f64;
    let i = (at.floor() as usize).min(RAMP.len() - 2);
    RAMP[i].mix(RAMP[i + 1], at - i as f64)
}

/// The text colour, black or white, that reads best on `fill`.
pub(crate) fn ink_on(fill: Colour) -> Colour {
    if BLACK.contrast(fill) >= WHITE.contrast(fill) {
        BLACK
    } else {
        WHITE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_hex() {
        assert_eq!(Colour::hex(0x0072b2).to_string(), "#0072b2");
    }

    #[test]
    fn ramp_darkens_steadily() {
        let lum: Vec<f64> = (0..=50)
            .map(|i| ramp(f64::from(i) / 50.0).luminance())
            .collect();
        assert!(lum.windows(2).all(|w| w[1] < w[0]), "{lum:?}");
        assert_eq!(ramp(-1.0), RAMP[0]);
        assert_eq!(ramp(2.0), RAMP[4]);
    }

    #[test]
    fn text_on_the_ramp_is_readable() {
        for i in 0..=100 {
            let fill = ramp(f64::from(i) / 100.0);
            assert!(ink_on(fill).contrast(fill) >= 4.5, "{fill}");
        }
    }

    /// How a reader with each full dichromacy sees linear RGB (Machado et al. 2009, severity 1):
    /// protanopia, deuteranopia, tritanopia.
    const DICHROMACIES: [[[f64; 3]; 3]; 3] = [
        [
            [0.152_286, 1.052_583, -0.204_868],
            [0.114_503, 0.786_281, 0.099_216],
            [-0.003_882, -0.048_116, 1.051_998],
        ],
        [
            [0.367_322, 0.860_646, -0.227_968],
            [0.280_085, 0.672_501, 0.047_413],
            [-0.011_820, 0.042_940, 0.968_881],
        ],
        [
            [1.255_528, -0.076_749, -0.178_779],
            [-0.078_411, 0.930_809, 0.147_602],
            [0.004_733, 0.691_367, 0.303_900],
        ],
    ];

    /// CIELAB (D65) of linear RGB.
    fn lab([r, g, b]: [f64; 3]) -> [f64; 3] {
        let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.950_47;
        let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
        let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.088_83;
        let f = |t: f64| {
            if t > 0.008_856 {
                t.cbrt()
            } else {
                7.787 * t + 16.0 / 116.0
            }
        };
        let (fx, fy, fz) = (f(x), f(y), f(z));
        [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
    }

    /// The smallest colour difference (CIE76 ΔE) between `a` and `b` as readers with any
    /// dichromacy see them.
    fn least_difference(a: Colour, b: Colour) -> f64 {
        let seen = |c: Colour, m: &[[f64; 3]; 3]| {
            let rgb = c.linear();
            lab(m.map(|row| (0..3).map(|j| row[j] * rgb[j]).sum::<f64>().clamp(0.0, 1.0)))
        };
        let apart = |m| {
            let (p, q) = (seen(a, m), seen(b, m));
            (0..3).map(|i| (p[i] - q[i]).powi(2)).sum::<f64>().sqrt()
        };
        DICHROMACIES.iter().map(apart).fold(f64::INFINITY, f64::min)
    }

    #[test]
    fn colour_blind_readers_tell_the_colours_apart() {
        for (i, a) in SERIES.iter().enumerate() {
            for b in &SERIES[i + 1..] {
                assert!(least_difference(*a, *b) >= 15.0, "{a} {b}");
            }
        }
        let (green, red) = (crate::journey::GREEN, crate::journey::RED);
        assert!(least_difference(green, red) >= 30.0);
        // The check can fail: a red and a green of equal lightness look alike.
        let (r, g) = (Colour::hex(0xcc3333), Colour::hex(0x669900));
        assert!(least_difference(r, g) < 15.0);
    }

    #[test]
    fn series_colours_show_on_white() {
        for i in 0..5 {
            assert!(series(i).0.contrast(WHITE) >= 2.9, "{}", series(i).0);
        }
    }
}
