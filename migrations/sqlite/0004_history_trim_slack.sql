DROP INDEX `channel_history_expires_at_idx`;--> statement-breakpoint
ALTER TABLE `channel_positions` ADD `history_size` integer;