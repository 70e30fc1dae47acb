CREATE TABLE "renovation_prices" (
	"room" text NOT NULL,
	"finish" text NOT NULL,
	"cost_per_sqm_cents" integer NOT NULL,
	"fixed_cost_cents" integer DEFAULT 0 NOT NULL,
	"currency" char(3) DEFAULT 'EUR' NOT NULL,
	CONSTRAINT "renovation_prices_room_finish_pk" PRIMARY KEY("room","finish")
);
--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "model" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "input_tokens" integer;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "output_tokens" integer;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "cost_usd" double precision;