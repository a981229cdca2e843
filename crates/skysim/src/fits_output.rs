//! Writing a simulated field to FITS, block by block, so that a 20k x 20k
//! image never sits in memory.

use std::path::Path;

use prospector_fits::{CardValue, ImageWriter};

use crate::catalogue::save_truth_csv;
use crate::config::FieldConfig;
use crate::error::SimError;
use crate::field::Field;

/// Rows rendered and written at a time by default: 40 MB of pixels for a
/// 20k-wide image, and enough rows that the noise kernel's margins cost
/// little.
pub const DEFAULT_BLOCK_ROWS: usize = 512;

impl Field {
    /// Header cards beyond the WCS and beam: units, frequency and how the
    /// image was made.
    fn fits_cards(&self) -> Vec<(String, CardValue)> {
        let c = self.config();
        let history = [
            format!("prospector-skysim simulated sky, seed {}", c.seed),
            format!(
                "noise rms {:e} Jy/beam, {} sources, exotic fraction {}",
                c.noise_rms_jy,
                self.truth().len(),
                c.exotic_fraction
            ),
        ];
        let mut cards: Vec<(String, CardValue)> = vec![
            ("BUNIT".into(), "JY/BEAM".into()),
            ("FREQ".into(), c.frequency_hz.into()),
            ("ORIGIN".into(), "prospector-skysim".into()),
        ];
        cards.extend(
            history
                .into_iter()
                .map(|h| ("HISTORY".to_string(), CardValue::Text(h))),
        );
        cards
    }

    /// Writes the image to `path` as a 32-bit float FITS file with the
    /// field's WCS, beam (BMAJ/BMIN/BPA), BUNIT = JY/BEAM and FREQ,
    /// rendering `block_rows` full rows at a time: memory holds one block,
    /// not the image. The pixels are exactly those of [`Field::render`].
    pub fn write_fits(&self, path: &Path, block_rows: usize) -> Result<(), SimError> {
        let bounds = self.bounds();
        let mut writer = ImageWriter::create(
            path,
            bounds.width,
            bounds.height,
            self.wcs(),
            Some(&self.beam()),
            &self.fits_cards(),
        )?;
        for block in self.row_blocks(block_rows) {
            let block = block?;
            writer.write_rows(block.rect().y0, block.pixels())?;
        }
        writer.finish()?;
        Ok(())
    }
}

/// Simulates the field `config` describes, writes its image to `image_path`
/// (FITS, streamed in blocks of `block_rows` rows) and its truth catalogue to
/// `truth_path` (CSV), and returns the field.
pub fn simulate_to_fits(
    config: FieldConfig,
    image_path: &Path,
    truth_path: &Path,
    block_rows: usize,
) -> Result<Field, SimError> {
    let field = Field::new(config)?;
    field.write_fits(image_path, block_rows)?;
    save_truth_csv(field.truth(), truth_path)?;
    Ok(field)
}
