"""Evidence (证明材料): files a subject attaches to a repair application or an objection — checked by content,
stored under a random server-chosen name in the configured directory, listed and served to the staff who
handle the case. The sender's file name is cleaned and only ever shown, never used as a path."""
