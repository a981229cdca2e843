//! 2-D embeddings of the VQ-VAE's code forms (t-SNE and UMAP) and measures of how well
//! an embedding keeps neighbourhoods.

mod points;
mod quality;
mod tsne;
mod umap;

pub use points::{code_usage_features, pca_2d};
pub use quality::{nearest_neighbours, neighbour_label_agreement, trustworthiness};
pub use tsne::{tsne, TsneSettings};
pub use umap::{fit_ab, umap, UmapSettings};
