//! A MeerKAT-like radio sky simulator: typical and exotic radio sources, correlated noise, artefacts and a truth catalogue.
