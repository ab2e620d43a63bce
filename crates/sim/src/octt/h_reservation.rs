//! H01–H04 reservation scenarios (being written)
