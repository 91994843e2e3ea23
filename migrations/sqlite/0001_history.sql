CREATE TABLE `channel_history` (
	`app_id` text NOT NULL,
	`channel` text NOT NULL,
	`seq` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`json` text NOT NULL,
	PRIMARY KEY(`app_id`, `channel`, `seq`)
);
--> statement-breakpoint
CREATE INDEX `channel_history_expires_at_idx` ON `channel_history` (`expires_at`);--> statement-breakpoint
CREATE TABLE `channel_idempotency` (
	`app_id` text NOT NULL,
	`channel` text NOT NULL,
	`id` text NOT NULL,
	`expires_at` integer NOT NULL,
	`json` text NOT NULL,
	PRIMARY KEY(`app_id`, `channel`, `id`)
);
--> statement-breakpoint
CREATE INDEX `channel_idempotency_expires_at_idx` ON `channel_idempotency` (`expires_at`);--> statement-breakpoint
CREATE TABLE `channel_positions` (
	`app_id` text NOT NULL,
	`channel` text NOT NULL,
	`epoch` text NOT NULL,
	`seq` integer NOT NULL,
	`ttl_ms` integer NOT NULL,
	`active_at` integer NOT NULL,
	PRIMARY KEY(`app_id`, `channel`)
);
