//! The running node: the zone table and the drivers of each zone's refresh machine.
