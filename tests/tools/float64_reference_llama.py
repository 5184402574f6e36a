# Computes float64 reference logits of an all-F32 llama GGUF along an expected file's path
# (prompt_ids + greedy[:-1]) and writes the top 8 per position as JSON.
# Usage: python3 float64_reference_llama.py MODEL.gguf EXPECTED.json OUT.json  (needs numpy)
import struct,sys,json,numpy as np
def rd(f,fmt): return struct.unpack('<'+fmt,f.read(struct.calcsize('<'+fmt)))[0]
def rs(f): n=rd(f,'Q'); return f.read(n).decode('utf8','replace')
sc={0:'B',1:'b',2:'H',3:'h',4:'I',5:'i',6:'f',7:'?',10:'Q',11:'q',12:'d'}
def rv(f,t):
    if t in sc: return rd(f,sc[t])
    if t==8: return rs(f)
    et=rd(f,'I'); n=rd(f,'Q'); return [rv(f,et) for _ in range(n)]
path=sys.argv[1]; f=open(path,'rb'); f.read(4); rd(f,'I'); nt=rd(f,'Q'); nk=rd(f,'Q')
md={}
for _ in range(nk):
    k=rs(f); t=rd(f,'I'); md[k]=rv(f,t)
ti=[]
for _ in range(nt):
    n=rs(f); nd=rd(f,'I'); dims=[rd(f,'Q') for _ in range(nd)]; ty=rd(f,'I'); off=rd(f,'Q'); ti.append((n,dims,ty,off))
al=md.get('general.alignment',32); pos=f.tell(); base=(pos+al-1)//al*al
raw=open(path,'rb').read()
W={}
for n,dims,ty,off in ti:
    assert ty==0
    cnt=int(np.prod(dims)); a=np.frombuffer(raw,dtype='<f4',count=cnt,offset=base+off).astype(np.float64)
    W[n]=a.reshape(list(reversed(dims)))
a='llama'
d=md[a+'.embedding_length']; L=md[a+'.block_count']; H=md[a+'.attention.head_count']; KV=md[a+'.attention.head_count_kv']
eps=md[a+'.attention.layer_norm_rms_epsilon']; hd=d//H; nrot=md.get(a+'.rope.dimension_count',hd); theta=md.get(a+'.rope.freq_base',10000.0)
e=json.load(open(sys.argv[2])); ids=e['prompt_ids']+e['greedy'][:-1]; T=len(ids)
def rms(x,w): return x/np.sqrt((x*x).mean(-1,keepdims=True)+eps)*w
x=W['token_embd.weight'][ids]
inv=theta**(-np.arange(0,nrot,2)/nrot); ang=np.arange(T)[:,None]*inv[None,:]; c=np.cos(ang); s=np.sin(ang)
def rope(q):  # q: T,heads,hd
    q=q.copy(); x0=q[...,0:nrot:2].copy(); x1=q[...,1:nrot:2].copy()
    q[...,0:nrot:2]=x0*c[:,None,:]-x1*s[:,None,:]; q[...,1:nrot:2]=x0*s[:,None,:]+x1*c[:,None,:]; return q
mask=np.triu(np.full((T,T),-np.inf),1)
for l in range(L):
    p=f'blk.{l}.'
    h=rms(x,W[p+'attn_norm.weight'])
    q=(h@W[p+'attn_q.weight'].T).reshape(T,H,hd); k=(h@W[p+'attn_k.weight'].T).reshape(T,KV,hd); v=(h@W[p+'attn_v.weight'].T).reshape(T,KV,hd)
    q=rope(q); k=rope(k); g=H//KV
    out=np.zeros((T,H,hd))
    for hh in range(H):
        sc_=q[:,hh]@k[:,hh//g].T/np.sqrt(hd)+mask; sc_=np.exp(sc_-sc_.max(-1,keepdims=True)); sc_/=sc_.sum(-1,keepdims=True)
        out[:,hh]=sc_@v[:,hh//g]
    x=x+out.reshape(T,-1)@W[p+'attn_output.weight'].T
    h=rms(x,W[p+'ffn_norm.weight'])
    gt=h@W[p+'ffn_gate.weight'].T; up=h@W[p+'ffn_up.weight'].T
    x=x+(gt/(1+np.exp(-gt))*up)@W[p+'ffn_down.weight'].T
x=rms(x,W['output_norm.weight']); lg=x@W['output.weight'].T
top=[]
for i in range(T):
    order=np.argsort(-lg[i])[:8]
    top.append([[int(t), round(float(lg[i][t]), 7)] for t in order])
json.dump({"model": e["model"], "path": ids, "exact_path_top": top}, open(sys.argv[3], "w"))
