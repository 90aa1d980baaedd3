-- Prompt enhancement: a server may let the model's prompt enhancer rewrite members' prompts before the
-- render (LTX-2's enhance_prompt). The text the clip was rendered from is kept with the job, shown in
-- its details beside the member's own, and reused by a reroll. NULL: the prompt was not enhanced (every
-- clip made before this migration).

ALTER TABLE jobs ADD COLUMN enhanced_prompt TEXT;
