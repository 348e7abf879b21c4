UPDATE sim.commands SET events = :events WHERE command_id = :command_id
