//! A simulated field: its truth catalogue, its rendered components and the
//! rendering of any rectangle of its image.

use std::ops::Range;
use std::sync::Mutex;

use prospector_image::{Beam, Image, PixelRect};
use prospector_wcs::Wcs;

use crate::artefacts;
use crate::catalogue::{draw_sources, SourceSpec, TruthSource};
use crate::config::{ArtefactConfig, BeamConfig, FieldConfig};
use crate::error::SimError;
use crate::gaussian::{PixelGaussian, Support};
use crate::index::GridIndex;
use crate::noise::{reset, NoiseField, NoiseScratch};
use crate::rng::{stream, Stream};
use crate::source::{self, Optics};

/// Rows rendered together. Working memory (f64 model and noise passes) is a
/// few strips per thread, not the whole rectangle, and the noise kernel's
/// margin rows add (kernel rows / strip rows), about 10%, to the noise work.
const STRIP_ROWS: usize = 128;

/// One thread's working buffers, reused strip after strip.
#[derive(Debug, Default)]
struct Scratch {
    model: Vec<f64>,
    noise: NoiseScratch,
}

/// Working buffers kept between calls, so that a stream of row blocks reuses
/// its memory instead of mapping (and page-faulting) fresh buffers for every
/// block: that cost a third more CPU in the 16k x 16k benchmark.
#[derive(Debug, Default)]
struct ScratchPool(Mutex<Vec<Scratch>>);

impl ScratchPool {
    fn take(&self) -> Scratch {
        // A poisoned pool (a panic elsewhere) just means fresh buffers.
        self.0
            .lock()
            .ok()
            .and_then(|mut pool| pool.pop())
            .unwrap_or_default()
    }

    fn give_back(&self, scratch: Scratch) {
        if let Ok(mut pool) = self.0.lock() {
            pool.push(scratch);
        }
    }
}

impl Clone for ScratchPool {
    /// A clone of a field starts with no buffers of its own.
    fn clone(&self) -> Self {
        Self::default()
    }
}

/// A simulated field, ready to render any rectangle of its image.
///
/// Building it draws (or takes) the sources and turns them into
/// beam-convolved components; no pixels are held. Pixels come from
/// [`Field::render_rect`], which gives the same bits for a pixel whichever
/// rectangle (and however many threads) it is rendered in.
#[derive(Debug, Clone)]
pub struct Field {
    config: FieldConfig,
    wcs: Wcs,
    truth: Vec<TruthSource>,
    components: Vec<PixelGaussian>,
    /// `components[source_ranges[id]]` are source `id`'s; after the last
    /// source's come the artefacts.
    source_ranges: Vec<Range<usize>>,
    index: GridIndex,
    noise: Option<NoiseField>,
    scratch: ScratchPool,
}

/// The largest source accepted: two degrees, beyond the largest giant radio
/// galaxies; it bounds the work one component can cost.
pub const MAX_SOURCE_SIZE_ARCSEC: f64 = 7200.0;

fn check_spec(index: usize, spec: &SourceSpec) -> Result<(), SimError> {
    let fault = if !(spec.x.is_finite() && spec.y.is_finite()) {
        Some("position is not finite".to_string())
    } else if !(spec.flux_jy.is_finite() && spec.flux_jy > 0.0) {
        Some(format!("flux must be positive, got {} Jy", spec.flux_jy))
    } else if !(spec.size_arcsec.is_finite()
        && (0.0..=MAX_SOURCE_SIZE_ARCSEC).contains(&spec.size_arcsec))
    {
        Some(format!(
            "size must lie in [0, {MAX_SOURCE_SIZE_ARCSEC}] arcsec, got {}",
            spec.size_arcsec
        ))
    } else if !spec.pa_deg.is_finite() {
        Some("position angle is not finite".to_string())
    } else {
        None
    };
    fault.map_or(Ok(()), |reason| {
        Err(SimError::InvalidSource { index, reason })
    })
}

impl Field {
    /// Simulates the field the configuration describes.
    pub fn new(config: FieldConfig) -> Result<Self, SimError> {
        let specs = draw_sources(&config)?;
        Self::with_sources(config, &specs)
    }

    /// A field holding exactly `specs` (ids are their indices), with the
    /// configuration's beam, noise, artefacts and sky position; the
    /// configuration's population settings are not used. For injection:
    /// draw a field's sources with [`draw_sources`], append the ones to
    /// inject, and build from the combined list.
    pub fn with_sources(config: FieldConfig, specs: &[SourceSpec]) -> Result<Self, SimError> {
        config.validate()?;
        let wcs = config.wcs()?;
        Self::build(config, wcs, specs)
    }

    /// Sources to inject into an existing `width` x `height` image, such as a
    /// real survey image, for injection-recovery tests: the image's own WCS
    /// gives the catalogue's RA/Dec and its pixel scale, `beam` convolves
    /// them, and there is no noise and no artefact. Add them to the image
    /// with [`Field::add_model_into`]. Position angles are measured from the
    /// image's +y axis, which is north in the unrotated images radio imagers
    /// write.
    pub fn for_injection(
        image_wcs: &Wcs,
        beam: &Beam,
        width: usize,
        height: usize,
        specs: &[SourceSpec],
    ) -> Result<Self, SimError> {
        let (scale_x, scale_y) = image_wcs.pixel_scale_deg();
        if (scale_x - scale_y).abs() > 1e-3 * scale_x.max(scale_y) {
            return Err(SimError::config(
                "image WCS",
                format!(
                    "needs square pixels to convolve with the beam, got {}\" x {}\"",
                    scale_x * 3600.0,
                    scale_y * 3600.0
                ),
            ));
        }
        let (centre_ra_deg, centre_dec_deg) = image_wcs.reference_sky();
        let config = FieldConfig {
            width,
            height,
            pixel_scale_arcsec: scale_x * 3600.0,
            beam: BeamConfig {
                major_arcsec: beam.major_deg * 3600.0,
                minor_arcsec: beam.minor_deg * 3600.0,
                pa_deg: beam.pa_deg,
            },
            noise_rms_jy: 0.0,
            source_density_per_sq_deg: 0.0,
            artefacts: ArtefactConfig {
                enabled: false,
                ..ArtefactConfig::default()
            },
            centre_ra_deg,
            centre_dec_deg,
            ..FieldConfig::default()
        };
        config.validate()?;
        Self::build(config, image_wcs.clone(), specs)
    }

    fn build(config: FieldConfig, wcs: Wcs, specs: &[SourceSpec]) -> Result<Self, SimError> {
        let optics = Optics::of(&config);
        let mut truth = Vec::with_capacity(specs.len());
        let mut components = Vec::new();
        let mut source_ranges = Vec::with_capacity(specs.len());
        for (id, spec) in specs.iter().enumerate() {
            check_spec(id, spec)?;
            let (ra_deg, dec_deg) = wcs.pixel_to_sky(spec.x, spec.y).ok_or(SimError::OffSky {
                x: spec.x,
                y: spec.y,
            })?;
            let built = source::build(spec, &optics);
            let start = components.len();
            components.extend(built.components);
            source_ranges.push(start..components.len());
            truth.push(TruthSource {
                id: id as u64,
                ra_deg,
                dec_deg,
                x: spec.x,
                y: spec.y,
                class: spec.class,
                exotic: spec.class.is_exotic(),
                flux_jy: spec.flux_jy,
                peak_jy_beam: built.peak_jy_beam,
                size_arcsec: built.size_arcsec,
                pa_deg: spec.pa_deg,
            });
        }
        if config.artefacts.enabled {
            let orientation = Stream::new(config.seed, stream::ARTEFACTS, 0).angle_deg();
            for source in truth
                .iter()
                .filter(|t| t.flux_jy > config.artefacts.flux_threshold_jy)
            {
                components.extend(artefacts::around(
                    source.x,
                    source.y,
                    source.peak_jy_beam,
                    &config.artefacts,
                    orientation,
                    &optics,
                ));
            }
        }
        let index = GridIndex::build(&components, config.width, config.height);
        let noise = (config.noise_rms_jy > 0.0)
            .then(|| NoiseField::new(config.seed, config.noise_rms_jy, &optics.beam));
        Ok(Self {
            config,
            wcs,
            truth,
            components,
            source_ranges,
            index,
            noise,
            scratch: ScratchPool::default(),
        })
    }

    pub fn config(&self) -> &FieldConfig {
        &self.config
    }

    /// The truth catalogue, one row per source, in id order.
    pub fn truth(&self) -> &[TruthSource] {
        &self.truth
    }

    /// The whole image's rectangle.
    pub fn bounds(&self) -> PixelRect {
        PixelRect::new(0, 0, self.config.width, self.config.height)
    }

    /// The restoring beam, for the image header.
    pub fn beam(&self) -> Beam {
        self.config.beam.to_beam()
    }

    /// The field's world coordinates (pixel <-> sky), as written to FITS.
    pub fn wcs(&self) -> &Wcs {
        &self.wcs
    }

    /// Pixel bounds (inclusive, possibly beyond the image) outside which
    /// source `id` adds nothing; `None` for an unknown id.
    pub fn support(&self, id: usize) -> Option<Support> {
        let range = self.source_ranges.get(id)?;
        self.components[range.clone()]
            .iter()
            .map(|c| c.support)
            .reduce(|a, b| a.union(&b))
    }

    /// How many components of other sources or of artefacts reach into
    /// source `id`'s support: 0 means the source is isolated, so a box over
    /// its support measures it alone (plus noise). `None` for an unknown id.
    pub fn blend_count(&self, id: usize) -> Option<usize> {
        let support = self.support(id)?;
        let own = &self.source_ranges[id];
        Some(
            self.index
                .components_touching(&support)
                .into_iter()
                .map(|i| i as usize)
                .filter(|i| !own.contains(i) && self.components[*i].support.overlaps(&support))
                .count(),
        )
    }

    /// The ids (ascending) of the sources with a component reaching into
    /// `rect`: the candidates for what an island found there is.
    pub fn sources_touching(&self, rect: &PixelRect) -> Vec<usize> {
        let area = rect_support(rect);
        let mut ids: Vec<usize> = self
            .index
            .components_touching(&area)
            .into_iter()
            .filter(|&i| self.components[i as usize].support.overlaps(&area))
            .filter_map(|i| self.source_of_component(i as usize))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Source `id`'s own noiseless model (Jy/beam) over `rect`, row-major,
    /// without noise, artefacts or other sources: how much of what a finder
    /// measured there is this source's. `None` for an unknown id.
    pub fn source_model(&self, id: usize, rect: &PixelRect) -> Option<Vec<f64>> {
        let range = self.source_ranges.get(id)?;
        let mut acc = vec![0.0; rect.area()];
        for component in &self.components[range.clone()] {
            component.add_into(
                &mut acc,
                rect.x0 as i64,
                rect.y0 as i64,
                rect.width,
                rect.height,
            );
        }
        Some(acc)
    }

    /// The source a component belongs to; `None` for an artefact's.
    fn source_of_component(&self, component: usize) -> Option<usize> {
        let id = self
            .source_ranges
            .partition_point(|range| range.end <= component);
        self.source_ranges
            .get(id)
            .filter(|range| range.contains(&component))
            .map(|_| id)
    }

    fn check_rect(&self, rect: &PixelRect) -> Result<(), SimError> {
        if rect.x1() > self.config.width || rect.y1() > self.config.height {
            return Err(SimError::RectOutsideImage {
                x0: rect.x0,
                y0: rect.y0,
                width: rect.width,
                height: rect.height,
                image_width: self.config.width,
                image_height: self.config.height,
            });
        }
        Ok(())
    }

    /// The noiseless model (sources and artefacts) over `rect`, row-major,
    /// into `acc` (resized to the rectangle).
    fn model_into(&self, rect: &PixelRect, acc: &mut Vec<f64>) {
        reset(acc, rect.area());
        if rect.is_empty() {
            return;
        }
        let (x0, y0) = (rect.x0 as i64, rect.y0 as i64);
        let area = rect_support(rect);
        for i in self.index.components_touching(&area) {
            self.components[i as usize].add_into(acc, x0, y0, rect.width, rect.height);
        }
    }

    /// Model plus noise over `rect`, written into `out` (`rect.area()` pixels).
    fn render_strip_into(&self, rect: &PixelRect, out: &mut [f32], scratch: &mut Scratch) {
        self.model_into(rect, &mut scratch.model);
        if let Some(noise) = &self.noise {
            let n = noise.render(
                rect.x0 as i64,
                rect.y0 as i64,
                rect.width,
                rect.height,
                &mut scratch.noise,
            );
            for (p, v) in scratch.model.iter_mut().zip(n) {
                *p += v;
            }
        }
        for (o, p) in out.iter_mut().zip(&scratch.model) {
            *o = *p as f32;
        }
    }

    /// The image (Jy/beam) over `rect`, on as many threads as the machine has.
    /// Bit-identical to the same crop of [`Field::render`].
    pub fn render_rect(&self, rect: PixelRect) -> Result<Image, SimError> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        self.render_rect_threads(rect, threads)
    }

    /// [`Field::render_rect`] on at most `threads` threads, each taking a
    /// run of row strips; the result does not depend on `threads`.
    pub fn render_rect_threads(&self, rect: PixelRect, threads: usize) -> Result<Image, SimError> {
        self.check_rect(&rect)?;
        let mut pixels = vec![0.0f32; rect.area()];
        if !rect.is_empty() {
            let mut strips: Vec<(PixelRect, &mut [f32])> = pixels
                .chunks_mut(rect.width * STRIP_ROWS)
                .enumerate()
                .map(|(i, out)| {
                    let strip = PixelRect::new(
                        rect.x0,
                        rect.y0 + i * STRIP_ROWS,
                        rect.width,
                        out.len() / rect.width,
                    );
                    (strip, out)
                })
                .collect();
            let per_thread = strips.len().div_ceil(threads.max(1));
            std::thread::scope(|scope| {
                while !strips.is_empty() {
                    let run: Vec<_> = strips.drain(..per_thread.min(strips.len())).collect();
                    scope.spawn(move || {
                        let mut scratch = self.scratch.take();
                        for (strip, out) in run {
                            self.render_strip_into(&strip, out, &mut scratch);
                        }
                        self.scratch.give_back(scratch);
                    });
                }
            });
        }
        // One pixel was written per cell of the rectangle.
        Ok(Image::new(rect, pixels).expect("rendered pixels match the rectangle"))
    }

    /// The whole image. For large fields prefer [`Field::row_blocks`].
    pub fn render(&self) -> Result<Image, SimError> {
        self.render_rect(self.bounds())
    }

    /// The image as consecutive full-width blocks of `rows` rows (the last
    /// may be shorter), for streaming a large field to a file.
    pub fn row_blocks(&self, rows: usize) -> impl Iterator<Item = Result<Image, SimError>> + '_ {
        let (width, height) = (self.config.width, self.config.height);
        (0..height).step_by(rows.max(1)).map(move |y0| {
            self.render_rect(PixelRect::new(0, y0, width, rows.max(1).min(height - y0)))
        })
    }

    /// Adds the noiseless model (sources and artefacts) into `image`, e.g. to
    /// inject sources into a real image of the same geometry.
    pub fn add_model_into(&self, image: &mut Image) -> Result<(), SimError> {
        let rect = image.rect();
        self.check_rect(&rect)?;
        let mut model = Vec::new();
        self.model_into(&rect, &mut model);
        for (p, v) in image.pixels_mut().iter_mut().zip(model) {
            *p = (*p as f64 + v) as f32;
        }
        Ok(())
    }
}

/// A pixel rectangle as inclusive bounds.
fn rect_support(rect: &PixelRect) -> Support {
    let (x0, y0) = (rect.x0 as i64, rect.y0 as i64);
    Support {
        x_min: x0,
        x_max: x0 + rect.width as i64 - 1,
        y_min: y0,
        y_max: y0 + rect.height as i64 - 1,
    }
}
