//! World coordinates for radio images: SIN, TAN, NCP, ARC and CAR projections, pixel <-> sky, IAU source names.
