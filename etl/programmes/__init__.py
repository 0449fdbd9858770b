"""Pilot programmes as data: the indicator catalogue and its evidence rules, pilots resolved to regions,
milestones and funds, monthly scores of every pilot × item, and the reports the city asks for."""
