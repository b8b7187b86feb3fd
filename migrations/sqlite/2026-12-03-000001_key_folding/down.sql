DROP TABLE key_folding;
